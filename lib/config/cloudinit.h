/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * cloud-config at first boot: find user-data in the datasources, save it
 * into cloud-config.d so it joins the merged config, and apply the
 * cloud-config modules.  Every path is under `root` ("" for /).
 * Failures are reported per module in the diagnostics; the rest goes on.
 */
#include <stdbool.h>

#include "config.h"

#define CI_DIR_STATE "/var/lib/ros/cloud-init"
#define CI_PATH_USER_DATA CFG_DIR_CLOUD_D "/50-user-data.yml"
#define CI_PATH_META_DATA CFG_DIR_CLOUD_D "/40-meta-data.yml"
#define CI_PATH_SCRIPT "/var/lib/ros/cloud-init/user-script"

struct ci_opts {
	const char *root;    /* "" or a test tree */
	const char *cmdline; /* NULL: ROOT/proc/cmdline */
	int timeout_s;       /* per datasource; 0: default 5 */
	bool force;          /* re-run once-per-instance modules */
	bool no_fetch;       /* apply only */
	bool no_devices;     /* skip block-device datasources (tests) */
};

enum ci_stage { CI_STAGE_EARLY = 1, CI_STAGE_LATE = 2, CI_STAGE_ALL = 3 };

/* Tries the datasources in order; saves what the first one that answers
 * gives.  Returns 1 when user-data was found, 0 when none answered. */
int ci_fetch(const struct ci_opts *o, struct cfg_diag *d, char *source, size_t source_size);
/* Applies the merged config's cloud-config modules for the stage.
 * Returns the number of modules that failed. */
int ci_apply(const struct ci_opts *o, enum ci_stage stage, struct cfg_diag *d);

/* Decodes write_files content: b64, gzip, gz+b64.  *out is heap. */
int ci_decode_content(const char *content, const char *encoding, char **out, size_t *len, struct ros_err *e);
