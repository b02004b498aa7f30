/* SPDX-License-Identifier: MIT */
/*
 * A/B slot state, kept in the GRUB environment block so that GRUB and
 * Linux share one truth (docs/install.md):
 *   ros_order=A B        preferred slot first
 *   ros_A_good=1         the slot booted to "all services up" once
 *   ros_A_tries=N        trial boots left; GRUB takes one per boot
 *   ros_A_failed=1       it ran out of tries and GRUB fell back
 *   ros_A_version=V      what the slot holds ("" = nothing bootable)
 *   ros_note=TEXT        the last event, for `ros os list`
 *   ros_append=ARGS      extra kernel arguments (ros install --append)
 *   ros_trial_timeout=S  a trial boot not good after S seconds reboots
 *                        (GRUB passes ros.trial=S; sysctr keeps the time)
 * grub.cfg boots the first slot of ros_order that is good, or else has
 * tries left (decrementing them), and the next one otherwise.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"

char boot_slot_other(char name)
{
	return name == 'A' ? 'B' : 'A';
}

struct boot_slot *boot_slot_get(struct boot_state *st, char name)
{
	for (int i = 0; i < BOOT_SLOTS; i++)
		if (st->slot[i].name == name)
			return &st->slot[i];
	return NULL;
}

static const struct boot_slot *slot_get_c(const struct boot_state *st, char name)
{
	for (int i = 0; i < BOOT_SLOTS; i++)
		if (st->slot[i].name == name)
			return &st->slot[i];
	return NULL;
}

static void var(char *buf, size_t size, char slot, const char *what)
{
	snprintf(buf, size, "ros_%c_%s", slot, what);
}

static int flag(const struct grubenv *env, const char *key, bool *out, struct ros_err *e)
{
	const char *v = grubenv_get(env, key);
	if (!v || !*v || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	if (!strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	return err_setx(e, EINVAL, "grubenv: %s=%s: expected 0 or 1", key, v);
}

int boot_state_from_env(const struct grubenv *env, struct boot_state *st, struct ros_err *e)
{
	memset(st, 0, sizeof(*st));
	const char *order = grubenv_get(env, "ros_order");
	if (!order)
		order = "A B";
	if (!strcmp(order, "A B") || !strcmp(order, "B A")) {
		st->order[0] = order[0];
		st->order[1] = order[2];
	} else {
		return err_setx(e, EINVAL, "grubenv: ros_order='%s': expected 'A B' or 'B A'", order);
	}
	for (int i = 0; i < BOOT_SLOTS; i++) {
		struct boot_slot *s = &st->slot[i];
		char k[32];
		s->name = (char)('A' + i);
		var(k, sizeof(k), s->name, "good");
		int r = flag(env, k, &s->good, e);
		if (r < 0)
			return r;
		var(k, sizeof(k), s->name, "failed");
		if ((r = flag(env, k, &s->failed, e)) < 0)
			return r;
		var(k, sizeof(k), s->name, "tries");
		const char *t = grubenv_get(env, k);
		if (t && *t) {
			if (strlen(t) != 1 || t[0] < '0' || t[0] > '0' + BOOT_TRIES_MAX)
				return err_setx(e, EINVAL, "grubenv: %s=%s: expected 0 to %d", k, t, BOOT_TRIES_MAX);
			s->tries = (unsigned)(t[0] - '0');
		}
		var(k, sizeof(k), s->name, "version");
		const char *v = grubenv_get(env, k);
		snprintf(s->version, sizeof(s->version), "%s", v ? v : "");
	}
	const char *note = grubenv_get(env, "ros_note"), *append = grubenv_get(env, "ros_append");
	snprintf(st->note, sizeof(st->note), "%s", note ? note : "");
	snprintf(st->append, sizeof(st->append), "%s", append ? append : "");
	const char *tt = grubenv_get(env, "ros_trial_timeout");
	if (tt && *tt) {
		char *end = NULL;
		unsigned long v = strtoul(tt, &end, 10);
		if (*end || v == 0 || v > 86400)
			return err_setx(e, EINVAL, "grubenv: ros_trial_timeout=%s: expected 1 to 86400 seconds", tt);
		st->trial_timeout_s = (unsigned)v;
	}
	return 0;
}

int boot_state_to_env(const struct boot_state *st, struct grubenv *env, struct ros_err *e)
{
	char order[4] = {st->order[0], ' ', st->order[1], '\0'};
	int r = grubenv_set(env, "ros_order", order, e);
	for (int i = 0; r >= 0 && i < BOOT_SLOTS; i++) {
		const struct boot_slot *s = &st->slot[i];
		char k[32], t[4];
		var(k, sizeof(k), s->name, "good");
		if ((r = grubenv_set(env, k, s->good ? "1" : "0", e)) < 0)
			break;
		var(k, sizeof(k), s->name, "tries");
		snprintf(t, sizeof(t), "%u", s->tries);
		if ((r = grubenv_set(env, k, t, e)) < 0)
			break;
		var(k, sizeof(k), s->name, "failed");
		if ((r = grubenv_set(env, k, s->failed ? "1" : "0", e)) < 0)
			break;
		var(k, sizeof(k), s->name, "version");
		r = grubenv_set(env, k, s->version, e);
	}
	if (r >= 0)
		r = grubenv_set(env, "ros_note", st->note[0] ? st->note : NULL, e);
	if (r >= 0)
		r = grubenv_set(env, "ros_append", st->append, e);
	if (r >= 0 && st->trial_timeout_s) {
		char t[16];
		snprintf(t, sizeof(t), "%u", st->trial_timeout_s);
		r = grubenv_set(env, "ros_trial_timeout", t, e);
	}
	return r;
}

char boot_pick(const struct boot_state *st, bool *consumes_try)
{
	*consumes_try = false;
	for (int i = 0; i < BOOT_SLOTS; i++) {
		const struct boot_slot *s = slot_get_c(st, st->order[i]);
		if (!s)
			continue;
		if (s->good)
			return s->name;
		if (s->tries > 0) {
			*consumes_try = true;
			return s->name;
		}
	}
	return 0;
}

char boot_grub_simulate(struct boot_state *st)
{
	bool try;
	char c = boot_pick(st, &try);
	struct boot_slot *s = c ? boot_slot_get(st, c) : NULL;
	if (s && try)
		s->tries--;
	return c;
}

void boot_state_init(struct boot_state *st, char a, const char *version, const char *append)
{
	memset(st, 0, sizeof(*st));
	st->order[0] = a;
	st->order[1] = boot_slot_other(a);
	st->slot[0].name = 'A';
	st->slot[1].name = 'B';
	struct boot_slot *s = boot_slot_get(st, a);
	if (s) {
		s->good = true;
		snprintf(s->version, sizeof(s->version), "%s", version);
	}
	snprintf(st->append, sizeof(st->append), "%s", append ? append : "");
}

int boot_mark_good(struct boot_state *st, char booted, const char *when)
{
	struct boot_slot *s = boot_slot_get(st, booted);
	if (!s)
		return 0;
	int changed = 0;
	bool fell_back = false;
	char preferred = st->order[0];
	if (preferred != booted) {
		/* GRUB passed over the preferred slot: a trial that ran out of
		 * tries (a slot written but never tried is not a failure). */
		struct boot_slot *p = boot_slot_get(st, preferred);
		if (p && !p->good && p->tries == 0 && p->version[0]) {
			p->failed = true;
			fell_back = true;
			snprintf(st->note, sizeof(st->note),
			         "%s: slot %c (%s) was not marked good in its tries; rolled back to slot %c (%s)", when,
			         preferred, p->version, booted, s->version);
		}
		st->order[0] = booted;
		st->order[1] = preferred;
		changed = 1;
	}
	if (!s->good || s->tries || s->failed) {
		if (!fell_back)
			snprintf(st->note, sizeof(st->note), "%s: slot %c (%s) booted and was marked good", when,
			         booted, s->version);
		s->good = true;
		s->tries = 0;
		s->failed = false;
		changed = 1;
	}
	return changed;
}

int boot_upgrade_begin(struct boot_state *st, char slot, char booted, struct ros_err *e)
{
	if (slot == booted)
		return err_setx(e, EBUSY, "slot %c is the running one; the upgrade goes to the other", slot);
	struct boot_slot *s = boot_slot_get(st, slot);
	if (!s)
		return err_setx(e, EINVAL, "no slot %c", slot);
	s->good = false;
	s->tries = 0;
	s->failed = false;
	s->version[0] = '\0';
	/* the running slot stays preferred until the new one is committed */
	st->order[0] = booted;
	st->order[1] = slot;
	return 0;
}

int boot_upgrade_commit(struct boot_state *st, char slot, const char *version, unsigned tries, struct ros_err *e)
{
	struct boot_slot *s = boot_slot_get(st, slot);
	if (!s)
		return err_setx(e, EINVAL, "no slot %c", slot);
	if (tries < 1 || tries > BOOT_TRIES_MAX)
		return err_setx(e, EINVAL, "tries %u: expected 1 to %d", tries, BOOT_TRIES_MAX);
	snprintf(s->version, sizeof(s->version), "%s", version);
	s->good = false;
	s->failed = false;
	s->tries = tries;
	st->order[0] = slot;
	st->order[1] = boot_slot_other(slot);
	return 0;
}

int boot_rollback(struct boot_state *st, char booted, struct ros_err *e)
{
	char other = boot_slot_other(booted);
	struct boot_slot *o = boot_slot_get(st, other);
	if (!o || !o->version[0])
		return err_setx(e, ENOENT, "slot %c holds nothing to roll back to", other);
	if (!o->good)
		return err_setx(e, EINVAL, "slot %c (%s) was never marked good; not rolling back to it", other,
		                o->version);
	st->order[0] = other;
	st->order[1] = booted;
	return 0;
}
