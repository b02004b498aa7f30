/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * sysctr service dependency graph: from `ros.after` / `ros.before` labels to
 * start levels.  A service at level L starts once every service at a lower
 * level it depends on is up; services of one level start in parallel.
 *
 * A missing dependency or a cycle is an error on the services concerned
 * (the message names them); services that depend on a failed one fail with
 * "depends on X, which cannot start"; every other service still gets a
 * level.  Header-only (static inline) so sysctr and its unit test share it
 * without a library; graph_order allocates nothing but one n*n matrix.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define GRAPH_ERR_MAX 512

struct graph_node {
	const char *name;
	const char *const *after; /* services this one starts after */
	size_t n_after;
	const char *const *before; /* services this one starts before */
	size_t n_before;
	/* out */
	int level; /* >= 0: start level; -1: cannot start (see err) */
	char err[GRAPH_ERR_MAX];
};

static inline ssize_t graph_find(const struct graph_node *nodes, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nodes[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Appends " -> name" style pieces to buf safely. */
static inline void graph_append(char *buf, size_t size, const char *s)
{
	size_t len = strnlen(buf, size);
	if (len + 1 < size)
		snprintf(buf + len, size - len, "%s", s);
}

/*
 * Computes nodes[i].level (or err).  Returns the number of services that
 * cannot start, or -ENOMEM.  dep[i*n+j] means i starts after j.
 */
static inline int graph_order(struct graph_node *nodes, size_t n)
{
	if (n == 0)
		return 0;
	bool *dep = calloc(n * n, sizeof(*dep));
	if (!dep)
		return -ENOMEM;
	bool *done = calloc(n, sizeof(*done));
	if (!done) {
		free(dep);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		nodes[i].level = -1;
		nodes[i].err[0] = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nodes[i].n_after; k++) {
			ssize_t j = graph_find(nodes, n, nodes[i].after[k]);
			if (j < 0) {
				if (!nodes[i].err[0])
					snprintf(nodes[i].err, GRAPH_ERR_MAX,
					         "service %s: ros.after: no service named %s", nodes[i].name,
					         nodes[i].after[k]);
			} else if ((size_t)j != i) {
				dep[i * n + (size_t)j] = true;
			}
		}
		for (size_t k = 0; k < nodes[i].n_before; k++) {
			ssize_t j = graph_find(nodes, n, nodes[i].before[k]);
			if (j < 0) {
				if (!nodes[i].err[0])
					snprintf(nodes[i].err, GRAPH_ERR_MAX,
					         "service %s: ros.before: no service named %s", nodes[i].name,
					         nodes[i].before[k]);
			} else if ((size_t)j != i) {
				dep[(size_t)j * n + i] = true;
			}
		}
	}
	size_t *path = calloc(n + 1, sizeof(*path));
	if (!path) {
		free(done);
		free(dep);
		return -ENOMEM;
	}
	for (;;) {
		/* Levels and propagated errors until nothing changes. */
		bool progress = true;
		while (progress) {
			progress = false;
			for (size_t i = 0; i < n; i++) {
				if (done[i])
					continue;
				if (nodes[i].err[0]) {
					done[i] = true;
					progress = true;
					continue;
				}
				int level = 0;
				bool ready = true;
				for (size_t j = 0; j < n && ready; j++) {
					if (!dep[i * n + j])
						continue;
					if (!done[j]) {
						ready = false;
					} else if (nodes[j].level < 0) {
						snprintf(nodes[i].err, GRAPH_ERR_MAX,
						         "service %s: depends on %s, which cannot start", nodes[i].name,
						         nodes[j].name);
					} else if (nodes[j].level + 1 > level) {
						level = nodes[j].level + 1;
					}
				}
				if (!ready)
					continue;
				if (!nodes[i].err[0])
					nodes[i].level = level;
				done[i] = true;
				progress = true;
			}
		}
		/* What is left is on a cycle or waits for one: every undone node has
		 * an undone dependency, so walking them from any one finds a cycle. */
		size_t s = 0;
		while (s < n && done[s])
			s++;
		if (s == n)
			break;
		{
			size_t len = 0, cur = s;
			ssize_t start = -1;
			for (;;) {
				for (size_t k = 0; k < len; k++)
					if (path[k] == cur)
						start = (ssize_t)k;
				if (start >= 0 || len > n)
					break;
				path[len++] = cur;
				size_t next = cur;
				for (size_t j = 0; j < n; j++)
					if (dep[cur * n + j] && !done[j]) {
						next = j;
						break;
					}
				cur = next;
			}
			if (start < 0)
				break; /* cannot happen: see above */
			char cycle[GRAPH_ERR_MAX] = "dependency cycle: ";
			for (size_t k = (size_t)start; k < len; k++) {
				graph_append(cycle, sizeof(cycle), nodes[path[k]].name);
				graph_append(cycle, sizeof(cycle), " -> ");
			}
			graph_append(cycle, sizeof(cycle), nodes[path[start]].name);
			for (size_t k = (size_t)start; k < len; k++) {
				size_t c = path[k];
				snprintf(nodes[c].err, GRAPH_ERR_MAX, "service %s: %s", nodes[c].name, cycle);
				nodes[c].level = -1;
				done[c] = true;
			}
		}
	}
	int failed = 0;
	for (size_t i = 0; i < n; i++)
		if (nodes[i].level < 0)
			failed++;
	free(path);
	free(done);
	free(dep);
	return failed;
}
