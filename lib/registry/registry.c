/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "registry.h"

void registry_credentials_done(RegistryCredentials *c) {
        if (!c)
                return;
        c->username = erase_and_free(c->username);
        c->password = erase_and_free(c->password);
        c->identity_token = erase_and_free(c->identity_token);
}

static const char * const layer_state_table[_REGISTRY_LAYER_STATE_MAX] = {
        [REGISTRY_LAYER_WAITING] = "waiting",
        [REGISTRY_LAYER_DOWNLOADING] = "downloading",
        [REGISTRY_LAYER_UPLOADING] = "uploading",
        [REGISTRY_LAYER_VERIFYING] = "verifying",
        [REGISTRY_LAYER_DONE] = "done",
        [REGISTRY_LAYER_EXISTS] = "exists",
        [REGISTRY_LAYER_MOUNTED] = "mounted",
};

const char *registry_layer_state_to_string(RegistryLayerState s) {
        return s >= 0 && s < _REGISTRY_LAYER_STATE_MAX ? layer_state_table[s] : NULL;
}

void registry_pull_result_done(RegistryPullResult *r) {
        if (!r)
                return;
        r->image_id = mfree(r->image_id);
        r->reference = mfree(r->reference);
        r->manifest_digest = mfree(r->manifest_digest);
        r->repo_digest = mfree(r->repo_digest);
}

void registry_push_result_done(RegistryPushResult *r) {
        if (!r)
                return;
        r->reference = mfree(r->reference);
        r->manifest_digest = mfree(r->manifest_digest);
}
