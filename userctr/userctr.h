/* SPDX-License-Identifier: MIT */
#pragma once
/* userctr: the user container engine, Docker Engine API over a unix socket. */
#include <jansson.h>
#include <microhttpd.h>

#include "image/image.h"

#define USERCTR_API_VERSION "1.44"
#define USERCTR_MIN_API_VERSION "1.24"

struct userctr {
	char *root;
	struct image_store images;
	struct MHD_Daemon *mhd;
};

/* The MHD access handler: routes one Docker API request. */
enum MHD_Result api_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls);
/* Frees a request's state when MHD is done with it. */
void api_request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);
