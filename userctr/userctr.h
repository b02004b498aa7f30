/* SPDX-License-Identifier: MIT */
#pragma once
/* userctr: the user container engine, Docker Engine API over a unix socket. */
#include <jansson.h>
#include <microhttpd.h>

#include "image/image.h"

#define USERCTR_API_VERSION "1.44"
#define USERCTR_MIN_API_VERSION "1.24"

struct events_sub;

struct userctr {
	char *root;
	struct events_sub *subs; /* streaming GET /events clients */
	struct image_store images;
	struct MHD_Daemon *mhd;
};

/* The MHD access handler: routes one Docker API request. */
enum MHD_Result api_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls);
/* Frees a request's state when MHD is done with it. */
void api_request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);

/* Broadcasts one Docker event ({"Type":..,"Action":..}) to /events clients. */
void events_emit(struct userctr *u, const char *type, const char *action, const char *id, const char *name);
/* Starts a streaming /events response on c. */
enum MHD_Result events_stream(struct userctr *u, struct MHD_Connection *c);
/* Resumes every suspended /events stream so the daemon can stop. */
void events_close_all(struct userctr *u);
