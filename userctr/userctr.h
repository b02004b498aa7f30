/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * userctr: the user container engine, Docker Engine API over a unix socket.
 *
 * Processes: `userctr` is a small subreaper (reaper.c) that owns the API
 * socket and forks the engine.  The engine (everything else here) is one
 * thread and one epoll loop; the containers it starts are its children.
 * When the engine dies, its containers are reparented to the reaper, which
 * reaps them and keeps their exit statuses, and which also keeps each
 * container's stdio fds (sent to it over a seqpacket socket), so a new
 * engine re-adopts running containers with their output (live restore).
 */
#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/image.h"

#define USERCTR_API_VERSION "1.44"
#define USERCTR_MIN_API_VERSION "1.24"

struct userctr;

/* One API request's state (MHD's con_cls). */
struct request {
	bool started;
	bool streaming_upload; /* body goes to upload_fd, not to body */
	int upload_fd;
	char *body;
	size_t body_len;
	bool body_too_big;
	int upload_errno;
	bool deferred, resumed; /* waiting for a container to stop (api_defer) */
};

/* What an epoll event is about (epoll data.ptr points to one). */
enum watch_kind { W_SIGNAL, W_MHD, W_REAPER, W_SRC, W_HIJACK, W_PIDFD, W_PULL };
struct watch {
	enum watch_kind kind;
	void *p;
};

/* A container's or exec's output: a pipe read end or a pty master. */
struct iosrc {
	struct watch w;
	int fd;
	int stream; /* 1 stdout, 2 stderr (also for a pty) */
	struct uctr *c;
	struct uexec *x;
	char part[16384]; /* a log line not yet ended by \n */
	size_t part_len;
};

/* An upgraded ("hijacked") connection: attach or exec start. */
struct hijack {
	struct watch w;
	struct userctr *u;
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	bool tty, want_out, want_err, want_in, stdin_once;
	char *out;
	size_t out_len;
	bool closing, in_eof, logs, detach;
	struct uctr *c;
	struct uexec *x;
	void (*ready)(struct hijack *h); /* the socket is ours now */
	struct hijack *next;             /* in c->attached */
};

/* A streaming HTTP response body (wait, logs --follow, stats). */
struct hstream {
	struct userctr *u;
	struct MHD_Connection *conn;
	char *buf;
	size_t len;
	bool suspended, eof, gone;
	/* what it waits for */
	enum { HS_WAIT, HS_LOGS, HS_PULL, HS_EVENTS } kind;
	char ctr_id[65];
	int condition; /* HS_WAIT: 0 not-running, 1 next-exit, 2 removed */
	bool out, err, timestamps, tty;
	size_t max;                 /* queue bound (0: STREAM_QUEUE_MAX) */
	struct hstream **owner_ref; /* cleared when the stream goes */
	struct hstream *next;
};

/* A request waiting for a container to stop before it is answered. */
struct deferred {
	struct MHD_Connection *conn;
	struct request *rq;
	char ctr_id[65];
	struct deferred *next;
};

struct uexec {
	struct userctr *u;
	char id[65];
	struct uctr *c;
	json_t *cfg; /* the ExecConfig */
	pid_t pid;
	bool running, started, tty;
	int exit_code;
	struct iosrc out, err;
	int in_fd;
	struct hijack *hj;
	bool exited_pending; /* exited; waiting for the output to drain */
	struct uexec *next;
};

struct uctr {
	struct userctr *u;
	char id[65];
	json_t *doc; /* the saved document (ROOT/containers/ID/container.json) */
	pid_t pid;
	unsigned long long start_time;
	bool running, paused, adopted;
	int pidfd;         /* adopted, and not the reaper's child: exit seen here */
	struct watch pidw; /* W_PIDFD */
	struct iosrc out, err;
	int in_fd;  /* stdin pipe write end, or the pty master; -1 */
	int log_fd; /* ID-json.log, O_APPEND */
	struct hijack *attached;
	bool user_stopped; /* stopped by stop/kill: no restart */
	uint64_t kill_at;  /* stop timeout deadline (ms, monotonic) */
	uint64_t restart_at;
	unsigned backoff_ms;
	bool exit_pending; /* exited; finishing once the output drained */
	int exit_status;
	bool removing;
	struct uctr *next;
};

struct userctr {
	char *root;
	char *state_root; /* lib/ctr state (ROOT/run) */
	struct image_store images;
	struct MHD_Daemon *mhd;
	int ep;
	int reaper_fd; /* seqpacket to the reaper, or -1 */
	struct watch reaper_w;
	struct uctr *ctrs;
	struct uexec *execs;
	struct hstream *streams;
	struct deferred *deferred;
	json_t *exits; /* {"pid": status} from the reaper */
	char *bridge_name, *bridge_cidr;
	bool net_ready;
	char **insecure;        /* --insecure-registry, NULL-terminated */
	char *default_registry; /* --default-registry */
	const char *certs_dir;  /* --certs-dir: Docker's certs.d */
	int pulls;              /* workers running */
};

/* ---- api.c / api-ctr.c ---------------------------------------------------- */
enum MHD_Result api_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls);
void api_request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);
enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned status, json_t *j);
enum MHD_Result api_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
enum MHD_Result api_send_ros_err(struct MHD_Connection *c, int r, const struct ros_err *e);
enum MHD_Result api_send_empty(struct MHD_Connection *c, unsigned status);
const char *api_arg(struct MHD_Connection *c, const char *key);
bool api_arg_true(struct MHD_Connection *c, const char *key);
/* Container, exec and volume routes; MHD_NO-or-result through *handled. */
enum MHD_Result api_ctr_route(struct userctr *u, struct MHD_Connection *c, const char *method, const char *path,
                              struct request *rq, bool *handled);
/* The request body of a request as JSON (NULL body: empty object); errors name line/column. */
json_t *api_body_json(struct request *rq, struct ros_err *e);
/* Defers the answer of rq until the container ctr_id stops. */
void api_defer(struct userctr *u, struct MHD_Connection *c, struct request *rq, const char *ctr_id);
/* Resumes deferred requests for ctr_id (after it stopped or went away). */
void api_resume_deferred(struct userctr *u, const char *ctr_id);
bool api_request_resumed(struct request *rq);

/* ---- events.c ---------------------------------------------------------------- */
void events_emit(struct userctr *u, const char *type, const char *action, const char *id, const char *name);
enum MHD_Result events_stream(struct userctr *u, struct MHD_Connection *c);
/* Ends every streaming response (events, wait, logs -f, pull) so MHD can stop. */
void events_close_all(struct userctr *u);

/* ---- stream.c: streaming responses and hijacked connections ------------------- */
struct hstream *hstream_start(struct userctr *u, struct MHD_Connection *c, const char *ctype, enum MHD_Result *r);
void hstream_write(struct hstream *s, const void *buf, size_t len);
void hstream_end(struct hstream *s);
/* A 101 upgrade response; on_upgrade runs once MHD hands over the socket. */
enum MHD_Result hijack_start(struct userctr *u, struct MHD_Connection *c, bool tty, struct hijack *proto);
/* Queues bytes to a hijacked connection (multiplexed frame unless tty). */
void hijack_send(struct hijack *h, int stream, const void *buf, size_t len);
void hijack_close(struct hijack *h);
/* Re-reads whether the connection's input can go anywhere yet. */
void hijack_rearm(struct hijack *h);
void hijack_event(struct hijack *h, uint32_t events);
/* Frames one chunk of output the Docker way: 8-byte header + payload. */
size_t frame_header(unsigned char hdr[8], int stream, size_t len);

/* ---- ctr.c: containers ----------------------------------------------------------- */
int ctrs_load(struct userctr *u, struct ros_err *e);
/* Re-adopts running containers with the fds the reaper kept ({"id": [fd..]}). */
void ctrs_adopt(struct userctr *u, json_t *stored);
struct uctr *ctr_find(struct userctr *u, const char *name_or_id);
int uctr_create(struct userctr *u, const char *name, json_t *body, struct uctr **out, json_t **warnings,
                struct ros_err *e);
int uctr_start(struct uctr *c, struct ros_err *e);
/* Sends sig; with timeout >= 0 a stop: SIGKILL after timeout seconds. */
int uctr_stop(struct uctr *c, int sig, int timeout, struct ros_err *e);
int uctr_kill(struct uctr *c, int sig, struct ros_err *e);
int uctr_remove(struct uctr *c, bool force, bool volumes, struct ros_err *e);
int uctr_rename(struct uctr *c, const char *name, struct ros_err *e);
int uctr_pause(struct uctr *c, bool pause, struct ros_err *e);
int uctr_resize(struct uctr *c, unsigned h, unsigned w, struct ros_err *e);
json_t *uctr_inspect(struct uctr *c);
json_t *uctr_summary(struct uctr *c);
json_t *uctr_stats(struct uctr *c);
json_t *uctr_top(struct uctr *c, struct ros_err *e);
void uctr_save(struct uctr *c);
const char *uctr_name(const struct uctr *c);
/* Called for each exited child/adopted pid; true when it was ours. */
bool ctrs_reaped(struct userctr *u, pid_t pid, int status);
/* An adopted container's pidfd became readable: it exited. */
void uctr_pidfd_event(struct uctr *c);
/* Output arrived or ended on a source (events from the loop). */
void src_event(struct iosrc *s, uint32_t events);
/* Writes stdin bytes from an attached client. */
void uctr_stdin(struct uctr *c, const void *buf, size_t len, bool eof);
/* Milliseconds until the next timer (stop timeout, restart), or -1. */
int ctrs_timeout(struct userctr *u);
void ctrs_tick(struct userctr *u);
/* Sends the container's log records to a stream (logs endpoint). */
int uctr_logs(struct uctr *c, struct hstream *s, long tail, long long since, long long until, struct ros_err *e);
/* Attaches a hijacked connection; with logs=1 replays the log first. */
void uctr_attach(struct uctr *c, struct hijack *h, bool logs);
void uctr_detach(struct uctr *c, struct hijack *h);
uint64_t now_ms(void);
void ctrs_shutdown(struct userctr *u);

/* ---- exec.c ------------------------------------------------------------------------ */
int uexec_create(struct uctr *c, json_t *body, struct uexec **out, struct ros_err *e);
struct uexec *uexec_find(struct userctr *u, const char *id);
int uexec_start(struct uexec *x, struct hijack *h, bool detach, struct ros_err *e);
json_t *uexec_inspect(struct uexec *x);
bool execs_reaped(struct userctr *u, pid_t pid, int status);
void uexec_stdin(struct uexec *x, const void *buf, size_t len, bool eof);
void uexec_src_closed(struct uexec *x);
int uexec_resize(struct uexec *x, unsigned h, unsigned w, struct ros_err *e);
void uexec_drop_container(struct userctr *u, struct uctr *c);

/* ---- spec.c: Docker create body -> OCI spec -------------------------------------- */
/* Validates and normalises the create body (errors name the field). */
int dspec_check(json_t *body, struct ros_err *e);
/* The OCI spec for a container; rootfs is the mounted root. */
json_t *dspec_build(struct userctr *u, struct uctr *c, const char *rootfs, json_t *image_cfg, struct ros_err *e);
/* Resolves "user[:group]" (names or ids) with ROOTFS/etc/passwd and group. */
int dspec_user(const char *rootfs, const char *user, long *uid, long *gid, struct ros_err *e);
/* Docker's default capability set. */
extern const char *const dspec_default_caps[];

/* ---- volume.c ------------------------------------------------------------------------ */
int volume_create(struct userctr *u, const char *name, json_t *labels, json_t **out, struct ros_err *e);
json_t *volume_list(struct userctr *u);
json_t *volume_inspect(struct userctr *u, const char *name, struct ros_err *e);
int volume_remove(struct userctr *u, const char *name, bool force, struct ros_err *e);
bool volume_in_use(struct userctr *u, const char *name);
/* The host path of a named volume (creating it when create). */
int volume_path(struct userctr *u, const char *name, bool create, char *out, size_t size, struct ros_err *e);

/* ---- pull.c ----------------------------------------------------------------------- */
struct pull;
/* POST /images/create: starts a pull worker and streams its progress. */
enum MHD_Result pull_start(struct userctr *u, struct MHD_Connection *c);
void pull_event(struct pull *p);

/* ---- reaper.c ----------------------------------------------------------------------- */
/* Runs the subreaper: listens on path, forks and re-forks the engine. Never returns. */
int reaper_main(const char *path, int argc, char **argv);
/* Engine side: the fds stored for container id (closed by caller). */
int reaper_store(struct userctr *u, const char *id, const int *fds, int n);
void reaper_drop(struct userctr *u, const char *id);
/* Fetches stored fds ({"id": [fd...]}) and exit records into u->exits. */
json_t *reaper_fetch(struct userctr *u);
void reaper_event(struct userctr *u);
void reaper_ack(struct userctr *u, pid_t pid);
