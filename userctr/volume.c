/* SPDX-License-Identifier: MIT */
/*
 * Named volumes: ROOT/volumes/NAME/_data (Docker's layout), with
 * ROOT/volumes/NAME/volume.json holding the creation time and labels.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "userctr.h"

static int name_check(const char *name, struct ros_err *e)
{
	size_t n = strlen(name);
	bool ok = n >= 2 && n <= 255 && isalnum((unsigned char)name[0]);
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)name[i]) || strchr("_.-", name[i]);
	if (!ok)
		return err_setx(e, EINVAL,
		                "\"%s\" includes invalid characters for a local volume name, only "
		                "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
		                name);
	return 0;
}

static void vol_dir(struct userctr *u, const char *name, char *out, size_t size, const char *leaf)
{
	snprintf(out, size, "%s/volumes/%s%s%s", u->root, name, leaf ? "/" : "", leaf ? leaf : "");
}

static json_t *describe(struct userctr *u, const char *name)
{
	char meta[4096], data[4096];
	vol_dir(u, name, meta, sizeof(meta), "volume.json");
	vol_dir(u, name, data, sizeof(data), "_data");
	json_t *m = json_load_file(meta, 0, NULL);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:{},s:s}", "Name", name, "Driver", "local", "Mountpoint", data,
	                      "CreatedAt", json_string_value(json_object_get(m, "CreatedAt")) ?: "", "Labels",
	                      json_incref(json_object_get(m, "Labels")) ?: json_object(), "Options", "Scope", "local");
	json_decref(m);
	return j;
}

int volume_create(struct userctr *u, const char *name, json_t *labels, json_t **out, struct ros_err *e)
{
	char gen[65];
	if (!name || !*name) {
		unsigned char b[32];
		if (getentropy(b, sizeof(b)) < 0)
			return err_set(e, errno, "getentropy");
		for (int k = 0; k < 32; k++)
			sprintf(gen + 2 * k, "%02x", b[k]);
		name = gen;
	}
	if (name_check(name, e) < 0)
		return -1;
	char data[4096], meta[4096];
	vol_dir(u, name, data, sizeof(data), "_data");
	vol_dir(u, name, meta, sizeof(meta), "volume.json");
	if (access(meta, F_OK) < 0) {
		if (fs_mkdir_p(data, 0755, e) < 0)
			return -1;
		char t[64];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_t *m = json_pack("{s:s,s:o}", "CreatedAt", t, "Labels",
		                      json_is_object(labels) ? json_incref(labels) : json_object());
		cleanup_free char *txt = json_dumps(m, JSON_COMPACT);
		json_decref(m);
		if (!txt || fs_write_atomic(meta, txt, strlen(txt), 0600, e) < 0)
			return -1;
		events_emit(u, "volume", "create", name, name);
	}
	if (out)
		*out = describe(u, name);
	return 0;
}

int volume_path(struct userctr *u, const char *name, bool create, char *out, size_t size, struct ros_err *e)
{
	if (name_check(name, e) < 0)
		return -1;
	if (create && volume_create(u, name, NULL, NULL, e) < 0)
		return -1;
	vol_dir(u, name, out, size, "_data");
	if (access(out, F_OK) < 0)
		return err_setx(e, ENOENT, "get %s: no such volume", name);
	return 0;
}

json_t *volume_list(struct userctr *u)
{
	json_t *vols = json_array();
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/volumes", u->root);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			json_array_append_new(vols, describe(u, de->d_name));
	if (d)
		closedir(d);
	return json_pack("{s:o,s:[]}", "Volumes", vols, "Warnings");
}

json_t *volume_inspect(struct userctr *u, const char *name, struct ros_err *e)
{
	char meta[4096];
	if (name_check(name, e) < 0)
		return NULL;
	vol_dir(u, name, meta, sizeof(meta), "volume.json");
	if (access(meta, F_OK) < 0) {
		err_setx(e, ENOENT, "get %s: no such volume", name);
		return NULL;
	}
	return describe(u, name);
}

bool volume_in_use(struct userctr *u, const char *name)
{
	for (struct uctr *c = u->ctrs; c; c = c->next) {
		size_t i;
		json_t *m;
		json_array_foreach(
		        json_object_get(c->doc, "Mounts"), i,
		        m) if (!strcmp(json_string_value(json_object_get(m, "Name")) ?: "", name)) return true;
	}
	return false;
}

int volume_remove(struct userctr *u, const char *name, bool force, struct ros_err *e)
{
	if (!name || name_check(name, e) < 0)
		return -1;
	char dir[4096], meta[4096];
	vol_dir(u, name, dir, sizeof(dir), NULL);
	vol_dir(u, name, meta, sizeof(meta), "volume.json");
	if (access(meta, F_OK) < 0)
		return force ? 0 : err_setx(e, ENOENT, "get %s: no such volume", name);
	if (volume_in_use(u, name))
		return err_setx(e, EBUSY, "remove %s: volume is in use", name);
	if (fs_remove_tree(dir, e) < 0)
		return -1;
	events_emit(u, "volume", "destroy", name, name);
	return 0;
}
