/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "registry-http.h"

/* An in-memory registry behind the registry-http.h interface, for the unit
 * tests of pull and push: linked before libberth, its symbols replace the
 * curl client's. Content is keyed by domain, repository and path
 * ("manifests/1", "blobs/sha256:..."). Bodies are delivered in chunks of
 * fake_chunk bytes, pauses honoured, so the streaming paths run. */

void fake_reset(void);
void fake_put(const char *domain, const char *repository, const char *path, const char *content_type,
              const void *data, size_t size);
/* The stored content, or NULL. */
const void *fake_get(const char *domain, const char *repository, const char *path, size_t *ret_size);

extern size_t fake_chunk;
extern unsigned fake_requests;     /* started since the last reset */
extern unsigned fake_pauses;
extern unsigned fake_by_method[5]; /* GET HEAD PUT POST PATCH */
/* Streamed GETs: those asked with resume_from (answered 206, or 416 past
 * the end), the last resume_from, and the body bytes sent in all. */
extern unsigned fake_ranges;
extern uint64_t fake_last_range, fake_streamed;
/* A streamed GET of this path fails (-ECONNRESET) after fake_fail_at bytes. */
extern const char *fake_fail_path;
extern uint64_t fake_fail_at;
