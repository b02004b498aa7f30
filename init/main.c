/* SPDX-License-Identifier: MIT */
/*
 * ros init, PID 1.  Sets the machine up (mounts, modules, root, state
 * disk), starts sysctr and keeps it running, reaps every orphan, and turns
 * signals into reboot, halt or poweroff.  It never exits.  When set-up
 * fails before sysctr can run, it says why on the console and keeps a
 * rescue shell running instead.  The contract is docs/boot.md.
 *
 * One single-threaded loop over a signalfd (SIGCHLD and the shutdown
 * signals) and two timerfds (restart backoff, shutdown deadlines).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/log.h"
#include "init.h"

#define PATH_VALUE "/usr/sbin:/usr/bin:/sbin:/bin"
#define BACKOFF_BASE_MS 100
#define BACKOFF_MAX_MS 30000
#define STABLE_MS 10000       /* a run this long resets the backoff */
#define TERM_ALL_WAIT_MS 5000 /* after SIGTERM to everyone, before SIGKILL */
#define KILL_ALL_WAIT_MS 2000

enum shutdown_kind { SHUTDOWN_REBOOT, SHUTDOWN_HALT, SHUTDOWN_POWEROFF };
enum phase { RUNNING, STOP_SUPERVISED, STOP_ALL_TERM, STOP_ALL_KILL };

static const int handled_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGPWR, SIGHUP};

static struct {
	struct init_cmdline cmdline;
	int signal_fd, restart_fd, stop_fd;
	/* The one supervised child: sysctr, or the rescue shell. */
	bool rescue;
	const char *name;
	char path[INIT_VALUE_MAX];
	char *argv[2];
	pid_t pid;
	uint64_t started_ms;
	unsigned failures; /* consecutive short runs */
	enum phase phase;
	enum shutdown_kind kind;
} init;

static void ignore_signal(int sig)
{
	(void)sig;
}

/* In a child: make the terminal behind /dev/console (ttyS0, tty1...) the
 * controlling tty, so a shell gets job control and ctrl-C; /dev/console
 * itself cannot be one.  Nothing to do when the console is not a tty. */
static void console_take(void)
{
	char active[128] = "", dev[160];
	if (!isatty(0))
		return;
	int fd = open("/sys/class/tty/console/active", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, active, sizeof(active) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		active[n] = '\0';
		active[strcspn(active, "\n")] = '\0';
		char *last = strrchr(active, ' '); /* the last one is /dev/console */
		snprintf(dev, sizeof(dev), "/dev/%s", last ? last + 1 : active);
		fd = open(dev, O_RDWR | O_NOCTTY);
		if (fd >= 0) {
			for (int i = 0; i < 3; i++)
				dup2(fd, i);
			if (fd > 2)
				close(fd);
		}
	}
	ioctl(0, TIOCSCTTY, 0);
}

int spawn(const char *path, char *const argv[], int flags)
{
	char term[64], cmdline_env[INIT_VALUE_MAX * 8];
	const char *t = getenv("TERM"), *c = getenv("ROS_CMDLINE");
	snprintf(term, sizeof(term), "TERM=%s", t ? t : "linux");
	snprintf(cmdline_env, sizeof(cmdline_env), "ROS_CMDLINE=%s", c ? c : "");
	/* ROS_CMDLINE only passes on the test harness's command line. */
	char *envp[] = {"PATH=" PATH_VALUE, "HOME=/", term, c ? cmdline_env : NULL, NULL};
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;
	sigset_t none;
	sigemptyset(&none);
	for (size_t i = 0; i < ARRAY_SIZE(handled_signals); i++)
		signal(handled_signals[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (flags & (SPAWN_SETSID | SPAWN_CONSOLE))
		setsid();
	if (flags & SPAWN_CONSOLE)
		console_take();
	/* sysctr: starting the next service, its container set-up included,
	 * goes ahead of the work of those already started (on one CPU it
	 * otherwise waits for udev's coldplug, sshd...); each service's spec
	 * puts the service itself back to nice 0 (process.scheduler) */
	if ((flags & SPAWN_AHEAD) && setpriority(PRIO_PROCESS, 0, -10) < 0)
		dprintf(2, "init: priority of %s: %s\n", path, strerror(errno));
	execvpe(path, argv, envp);
	dprintf(2, "init: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

static void timer_arm(int fd, uint64_t ms)
{
	struct itimerspec its = {.it_value = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000 + 1}};
	timerfd_settime(fd, 0, &its, NULL);
}

static void timer_disarm(int fd)
{
	struct itimerspec its = {0};
	timerfd_settime(fd, 0, &its, NULL);
}

static uint64_t backoff_ms(unsigned failures)
{
	uint64_t ms = (uint64_t)BACKOFF_BASE_MS << (failures < 16 ? failures : 16);
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static void supervised_start(void)
{
	if (init.phase != RUNNING || init.pid > 0 || !init.path[0])
		return;
	int pid = spawn(init.path, init.argv, init.rescue ? SPAWN_CONSOLE : SPAWN_SETSID | SPAWN_AHEAD);
	if (pid < 0) {
		log_error("start %s %s: %s", init.name, init.path, strerror(-pid));
		timer_arm(init.restart_fd, backoff_ms(init.failures++));
		return;
	}
	init.pid = pid;
	init.started_ms = monotonic_ms();
	log_info("started %s %s (pid %d)", init.name, init.path, pid);
}

static const char *kind_name(enum shutdown_kind k)
{
	return k == SHUTDOWN_REBOOT ? "reboot" : k == SHUTDOWN_HALT ? "halt" : "poweroff";
}

/* Last step: nothing runs but init. */
static __attribute__((noreturn)) void finish(void)
{
	static const int cmd[] = {
	        [SHUTDOWN_REBOOT] = RB_AUTOBOOT, [SHUTDOWN_HALT] = RB_HALT_SYSTEM, [SHUTDOWN_POWEROFF] = RB_POWER_OFF};
	log_info("syncing and unmounting; %s", kind_name(init.kind));
	sync();
	mounts_teardown();
	sync();
	reboot(cmd[init.kind]);
	log_error("reboot(2) for %s: %s", kind_name(init.kind), strerror(errno));
	for (;;)
		pause();
}

static void reap(void);

static void stop_all(void)
{
	init.phase = STOP_ALL_TERM;
	log_info("sending SIGTERM to all processes");
	if (init.rescue && init.pid > 0)
		kill(init.pid, SIGHUP); /* an interactive shell ignores SIGTERM */
	if (kill(-1, SIGTERM) < 0 && errno == ESRCH)
		finish();
	kill(-1, SIGCONT); /* a stopped process cannot act on SIGTERM */
	timer_arm(init.stop_fd, TERM_ALL_WAIT_MS);
	reap(); /* no children at all: done */
}

static void shutdown_begin(enum shutdown_kind kind, int sig)
{
	if (init.phase == STOP_SUPERVISED) { /* asked twice: stop waiting for sysctr */
		log_info("%s: no more waiting for %s", strsignal(sig), init.name);
		stop_all();
		return;
	}
	if (init.phase != RUNNING)
		return;
	init.kind = kind;
	log_info("%s: %s", strsignal(sig), kind_name(kind));
	timer_disarm(init.restart_fd);
	if (init.pid > 0 && !init.rescue) {
		init.phase = STOP_SUPERVISED;
		log_info("stopping %s (pid %d), up to %u s", init.name, init.pid, init.cmdline.shutdown_timeout_s);
		kill(init.pid, SIGTERM);
		timer_arm(init.stop_fd, init.cmdline.shutdown_timeout_s * 1000ULL);
		return;
	}
	stop_all();
}

static void stop_deadline(void)
{
	switch (init.phase) {
	case STOP_SUPERVISED:
		log_warn("%s did not stop in %u s", init.name, init.cmdline.shutdown_timeout_s);
		stop_all();
		break;
	case STOP_ALL_TERM:
		log_warn("processes left %d s after SIGTERM: sending SIGKILL", TERM_ALL_WAIT_MS / 1000);
		init.phase = STOP_ALL_KILL;
		kill(-1, SIGKILL);
		timer_arm(init.stop_fd, KILL_ALL_WAIT_MS);
		reap();
		break;
	case STOP_ALL_KILL:
		log_warn("processes still left after SIGKILL");
		finish();
	case RUNNING:
		break;
	}
}

static void supervised_exited(int status)
{
	uint64_t ran = monotonic_ms() - init.started_ms;
	char how[64];
	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "was killed by %s", strsignal(WTERMSIG(status)));
	pid_t pid = init.pid;
	init.pid = 0;
	if (init.phase == STOP_SUPERVISED) {
		log_info("%s (pid %d) %s", init.name, pid, how);
		stop_all();
		return;
	}
	if (init.phase != RUNNING)
		return;
	if (ran >= STABLE_MS)
		init.failures = 0;
	uint64_t delay = backoff_ms(init.failures++);
	log_warn("%s (pid %d) %s after %llu ms; restarting in %llu ms", init.name, pid, how, (unsigned long long)ran,
	         (unsigned long long)delay);
	timer_arm(init.restart_fd, delay);
}

/* Reaps every child that has exited: sysctr, the rescue shell, and any
 * orphan re-parented to PID 1 (containers of a dead sysctr, daemons). */
static void reap(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0)
			return;
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			/* Every process descends from init: no child, no process. */
			if (errno == ECHILD && init.phase >= STOP_ALL_TERM)
				finish();
			return;
		}
		if (pid == init.pid)
			supervised_exited(status);
		else
			log_debug("reaped pid %d (status %d)", pid, status);
	}
}

static void signals_read(void)
{
	struct signalfd_siginfo si;
	while (read(init.signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap();
			break;
		case SIGTERM:
		case SIGINT: /* ctrl-alt-del, see RB_DISABLE_CAD */
			shutdown_begin(SHUTDOWN_REBOOT, (int)si.ssi_signo);
			break;
		case SIGUSR1:
			shutdown_begin(SHUTDOWN_HALT, (int)si.ssi_signo);
			break;
		case SIGUSR2:
		case SIGPWR:
			shutdown_begin(SHUTDOWN_POWEROFF, (int)si.ssi_signo);
			break;
		default:
			break;
		}
	}
}

static __attribute__((noreturn)) void loop(void)
{
	for (;;) {
		struct pollfd p[] = {
		        {init.signal_fd, POLLIN, 0}, {init.restart_fd, POLLIN, 0}, {init.stop_fd, POLLIN, 0}};
		if (poll(p, ARRAY_SIZE(p), -1) < 0)
			continue;
		uint64_t expirations;
		if (p[0].revents & POLLIN)
			signals_read();
		if ((p[1].revents & POLLIN) && read(init.restart_fd, &expirations, sizeof(expirations)) > 0)
			supervised_start();
		if ((p[2].revents & POLLIN) && read(init.stop_fd, &expirations, sizeof(expirations)) > 0)
			stop_deadline();
	}
}

static int signals_setup(void)
{
	sigset_t set;
	sigemptyset(&set);
	struct sigaction sa = {.sa_handler = ignore_signal};
	for (size_t i = 0; i < ARRAY_SIZE(handled_signals); i++) {
		sigaddset(&set, handled_signals[i]);
		/* The mask alone keeps them queued for the signalfd; a
		 * handler too, because PID 1 drops signals it has none for
		 * whenever they are not blocked (belt and braces). */
		sigaction(handled_signals[i], &sa, NULL);
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	init.signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	init.restart_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	init.stop_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (init.signal_fd < 0 || init.restart_fd < 0 || init.stop_fd < 0)
		return -errno;
	/* ctrl-alt-del sends SIGINT instead of rebooting at once (EINVAL in a
	 * PID namespace: harmless). */
	reboot(RB_DISABLE_CAD);
	return 0;
}

/* Our pid as the outermost visible procfs sees it, before we mount ours:
 * 1 on a real boot, the host pid under a test harness.  `ros os` reads it
 * from /run/ros/init.pid. */
static long outer_pid(void)
{
	cleanup_free char *status = NULL;
	if (fs_read_all("/proc/self/status", 64 * 1024, &status, NULL, NULL) < 0)
		return getpid();
	char *nspid = strstr(status, "\nNSpid:");
	return nspid ? strtol(nspid + 7, NULL, 10) : getpid();
}

static void run_file_write(const char *path, const char *content)
{
	struct ros_err e = {0};
	if (fs_write_atomic(path, content, strlen(content), 0644, &e) < 0)
		log_warn("%s", err_msg(&e));
}

static void cmdline_read(void)
{
	init_cmdline_defaults(&init.cmdline);
	cleanup_free char *text = NULL;
	const char *env = getenv("ROS_CMDLINE");
	struct ros_err e = {0};
	if (!env && fs_read_all("/proc/cmdline", 64 * 1024, &text, NULL, &e) < 0)
		log_warn("%s", err_msg(&e));
	int problems = init_cmdline_parse(env ? env : text ? text : "", &init.cmdline, &e);
	if (problems < 0)
		log_warn("%s%s (ignored)", err_msg(&e), problems < -1 ? " and more" : "");
	if (init.cmdline.debug)
		log_set_level(LOG_LVL_DEBUG);
}

/* RCU grace periods expedited while the system boots, as the kernel does
 * for its own boot: module loading, mounts, clones, cgroup moves wait for
 * grace periods, several ticks each otherwise (the boot under TCG: all
 * services up 1.15 s -> 0.95 s after init starts). sysctr ends it once
 * the services are up (or after a minute), as the marker asks; never under
 * the test harness (it would be the host's setting). */
static void rcu_expedite_boot(void)
{
	if (getenv("ROS_CMDLINE") || getpid() != 1)
		return;
	int fd = open("/sys/kernel/rcu_expedited", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) == 1)
		run_file_write(RCU_EXPEDITED_MARKER, "1\n");
	close(fd);
}

/* Everything up to starting sysctr.  Non-fatal problems are logged; a
 * fatal one is returned and ends in the rescue shell. */
static int boot(long pid_outside, struct ros_err *e)
{
	int r = mounts_early(e);
	console_ensure();
	char pid_text[32];
	snprintf(pid_text, sizeof(pid_text), "%ld\n", pid_outside);
	if (fs_mkdir_p("/run/ros", 0755, NULL) == 0)
		run_file_write("/run/ros/init.pid", pid_text);
	if (r < 0)
		return r;
	cmdline_read();
	rcu_expedite_boot();
	struct ros_err ce = {0};
	if (mounts_cgroups(init.cmdline.cgroup_v1, &ce) < 0)
		log_warn("%s", err_msg(&ce));
	timeline_add("mounts", monotonic_ms());

	/* what only services need (NICs, bridge, netfilter, ...) loads later */
	int failed = modules_load("/etc/ros/modules.boot", "/etc/ros/modules.soon", "/etc/ros/modules.late");
	if (failed)
		log_warn("%d boot module(s) failed to load", failed);
	timeline_add("modules", monotonic_ms());

	r = root_setup(&init.cmdline, e);
	if (r < 0)
		return err_prefix(e, "set up the root filesystem");
	cleanup_free char *version = NULL;
	if (fs_read_all("/run/ros/media/ros/VERSION", 256, &version, NULL, NULL) < 0)
		version = strdup(ROS_VERSION "\n");
	run_file_write("/run/ros/version", version ? version : "");
	timeline_add("root", monotonic_ms());

	struct ros_err se = {0};
	if (state_setup(&init.cmdline, &se) < 0)
		log_error("state disk: %s; state stays in RAM", err_msg(&se));
	devices_forget();
	timeline_add("state", monotonic_ms());

	if (init.cmdline.rescue)
		return err_setx(e, ECANCELED, "ros.rescue is on the kernel command line");
	if (access(init.cmdline.sysctr, X_OK) < 0)
		return err_set(e, errno, "cannot start sysctr %s", init.cmdline.sysctr);
	return 0;
}

static void rescue_enter(const char *why)
{
	static const char *const shells[] = {"/bin/sh", "/bin/busybox"};
	static char sh[] = "sh";
	dprintf(2, "\ninit: %s\ninit: starting a rescue shell. Fix the problem, then reboot: kill -TERM 1\n\n", why);
	timeline_add("rescue", monotonic_ms());
	init.rescue = true;
	init.name = "rescue shell";
	for (size_t i = 0; i < ARRAY_SIZE(shells); i++) {
		if (access(shells[i], X_OK) == 0) {
			snprintf(init.path, sizeof(init.path), "%s", shells[i]);
			init.argv[0] = sh;
			supervised_start();
			return;
		}
	}
	log_error("no shell (/bin/sh, /bin/busybox) to rescue with; waiting for a signal");
}

int main(int argc, char **argv)
{
	uint64_t started = monotonic_ms();
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("ros init %s\n", ROS_VERSION);
		return 0;
	}
	log_setup("init", 2, false);
	if (getpid() != 1) {
		log_error("must run as PID 1 (for a test: unshare --pid --fork --mount --propagation private)");
		return 1;
	}
	umask(022);
	setenv("PATH", PATH_VALUE, 1);
	if (signals_setup() < 0)
		log_error("signals: %s", strerror(errno)); /* carry on: booting matters more */
	long pid_outside = outer_pid();
	timeline_add("kernel", started);

	struct ros_err e = {0};
	if (boot(pid_outside, &e) < 0) {
		rescue_enter(err_msg(&e));
	} else {
		init.name = "sysctr";
		snprintf(init.path, sizeof(init.path), "%s", init.cmdline.sysctr);
		init.argv[0] = init.path;
		timeline_add("sysctr", monotonic_ms());
		supervised_start();
	}
	loop();
}
