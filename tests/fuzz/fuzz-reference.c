/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image references (lib/reference.c): the input is one reference string.
 * Beyond not crashing, a reference that parses must print to a canonical
 * form that parses back to itself. */
#include "fuzz.h"
#include "reference.h"
#include "util.h"

static void check_canonical(const Reference *r) {
        _cleanup_(reference_freep) Reference *again = NULL;
        _cleanup_free_ char *s = NULL, *s2 = NULL, *name = NULL, *familiar = NULL;

        s = reference_to_string(r);
        name = reference_name(r);
        familiar = reference_familiar(r);
        FUZZ_CHECK(s && name && familiar);
        FUZZ_CHECK(r->domain && r->path);
        FUZZ_CHECK(strlen(r->domain) + 1 + strlen(r->path) <= REFERENCE_NAME_MAX);
        FUZZ_CHECK(!r->tag || strlen(r->tag) <= REFERENCE_TAG_MAX);

        FUZZ_CHECK(reference_parse_name(s, &again) == 0);
        s2 = reference_to_string(again);
        FUZZ_CHECK(s2 && streq(s, s2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size), *hex = NULL, *familiar = NULL;
        _cleanup_(reference_freep) Reference *r = NULL, *n = NULL;

        if (reference_parse(s, &r) == 0) {
                FUZZ_CHECK(r->tag || r->digest);
                check_canonical(r);
        }
        if (reference_parse_name(s, &n) == 0)
                check_canonical(n);
        familiar = reference_familiar_string(s);
        FUZZ_CHECK(familiar);
        if (reference_parse_id(s, &hex) == 0)
                FUZZ_CHECK(reference_is_id_prefix(hex));
        (void) reference_is_id_prefix(s);
        return 0;
}
