/* SPDX-License-Identifier: MIT */
/* lib/image: image reference parsing and the pull's early refusals (no network needed). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"
#include "image/internal.h"
#include "tap.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void parses(const char *ref, const char *def, const char *host, const char *repo, const char *tag,
                   const char *digest)
{
	struct image_ref r;
	struct ros_err e = {0};
	int rc = image_ref_parse(ref, def, &r, &e);
	ok(rc == 0, "%s parses: %s", ref, e.msg);
	if (rc < 0)
		return;
	is_str(r.host, host);
	is_str(r.repo, repo);
	is_str(r.tag, tag);
	is_str(r.digest, digest);
}

static void refused(const char *ref, const char *def, int code, const char *msg)
{
	struct image_ref r;
	struct ros_err e = {0};
	is_int(image_ref_parse(ref, def, &r, &e), code);
	ok(strstr(e.msg, msg) != NULL, "%s: message \"%s\" has \"%s\"", ref, e.msg, msg);
}

TEST(ref_host_port_name_tag_digest)
{
	parses("127.0.0.1:5000/busybox:1", NULL, "127.0.0.1:5000", "busybox", "1", "");
	parses("reg.test/team/app@sha256:" D64, NULL, "reg.test", "team/app", "", "sha256:" D64);
	parses("reg.test:443/a/b/c:v1.2-rc_3@sha256:" D64, NULL, "reg.test:443", "a/b/c", "v1.2-rc_3", "sha256:" D64);
	parses("localhost/x", NULL, "localhost", "x", "latest", "");
	parses("LOCALHOST:5000/x", NULL, "localhost:5000", "x", "latest", "");
	parses("[::1]:5000/x:2", NULL, "[::1]:5000", "x", "2", "");
	parses("a.b-c/x__y.z-w---v:TAG_", NULL, "a.b-c", "x__y.z-w---v", "TAG_", "");
}

TEST(ref_default_registry_and_library)
{
	parses("busybox", "mirror.test", "mirror.test", "library/busybox", "latest", "");
	parses("busybox:1.36", "mirror.test:5000", "mirror.test:5000", "library/busybox", "1.36", "");
	parses("team/app", "mirror.test", "mirror.test", "team/app", "latest", "");
	/* the default registry named explicitly: the same library/ rule */
	parses("mirror.test/busybox", "mirror.test", "mirror.test", "library/busybox", "latest", "");
	/* a first component without '.' or ':' is a path, not a host */
	parses("host/name", "mirror.test", "mirror.test", "host/name", "latest", "");
	refused("busybox", NULL, -ENOENT, "no default registry configured");
	refused("busybox", "bad host!", -EINVAL, "default registry \"bad host!\"");
}

TEST(ref_local_names)
{
	struct image_ref r;
	char name[512];
	is_int(image_ref_parse("busybox:1", "mirror.test", &r, NULL), 0);
	is_int(image_ref_local_name(&r, "mirror.test", name, sizeof(name)), 0);
	is_str(name, "busybox");
	is_int(image_ref_parse("team/app", "mirror.test", &r, NULL), 0);
	is_int(image_ref_local_name(&r, "mirror.test", name, sizeof(name)), 0);
	is_str(name, "team/app");
	is_int(image_ref_parse("127.0.0.1:5000/library/busybox", "mirror.test", &r, NULL), 0);
	is_int(image_ref_local_name(&r, "mirror.test", name, sizeof(name)), 0);
	is_str(name, "127.0.0.1:5000/library/busybox");
	is_int(image_ref_local_name(&r, NULL, name, 8), -ENAMETOOLONG);
}

TEST(ref_bad_references_say_why)
{
	refused("", NULL, -EINVAL, "empty reference");
	refused("reg.test/Busybox", NULL, -EINVAL, "repository name (Busybox) must be lowercase");
	refused("reg.test/a//b", NULL, -EINVAL, "repository name \"a//b\"");
	refused("reg.test/a-", NULL, -EINVAL, "repository name \"a-\"");
	refused("reg.test/_a", NULL, -EINVAL, "repository name \"_a\"");
	refused("reg.test/", NULL, -EINVAL, "no repository name");
	refused("reg.test:99999/x", NULL, -EINVAL, "registry \"reg.test:99999\" is not host[:port]");
	refused("reg.test:/x", NULL, -EINVAL, "is not host[:port]");
	refused("-reg.test/x", NULL, -EINVAL, "is not host[:port]");
	refused("reg.test/x:bad tag", NULL, -EINVAL, "tag \"bad tag\"");
	refused("reg.test/x:", NULL, -EINVAL, "tag \"\"");
	refused("reg.test/x:.dot", NULL, -EINVAL, "tag \".dot\"");
	refused("reg.test/x@sha256:abc", NULL, -EINVAL, "digest \"sha256:abc\"");
	refused("reg.test/x@sha256:" D64 "00", NULL, -EINVAL, "64 lower-case hex");
	refused("reg.test/x@md5:0123", NULL, -EINVAL, "unsupported digest algorithm");
	refused("reg.test/x@sha256:" D64 "@sha256:" D64, NULL, -EINVAL, "digest");
	char longtag[200];
	memset(longtag, 'a', sizeof(longtag));
	snprintf(longtag, sizeof(longtag), "reg.test/x:%0129d", 7);
	refused(longtag, NULL, -EINVAL, "at most 128 characters");
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "reg.test/", 9);
	refused(longname, NULL, -EINVAL, "more than 255 characters");
	char huge[700];
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	refused(huge, "mirror.test", -EINVAL, "longer than 511 bytes");
	refused(NULL, NULL, -EINVAL, "empty reference");
}

TEST(pull_refuses_before_any_request)
{
	char d[] = "/tmp/test-image-pull-XXXXXX";
	ok(mkdtemp(d) != NULL, "temp dir");
	struct image_store s;
	struct ros_err e = {0};
	is_int(image_store_open(&s, d, &e), 0);
	struct image_pull_opts o = {0};
	char *id = NULL;
	is_int(image_pull(&s, "busybox", &o, &id, &e), -ENOENT);
	ok(strstr(e.msg, "no default registry configured"), "%s", e.msg);
	is_int(image_pull(&s, "reg.test/UPPER", NULL, &id, &e), -EINVAL);
	ok(id == NULL, "no id on failure");
	image_store_close(&s);
	fs_remove_tree(d, &e);
}
