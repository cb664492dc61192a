/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth-file.h"
#include "ctl-credentials.h"
#include "fileio.h"
#include "util.h"

extern char **environ;

void ctl_credentials_done(CtlCredentials *c) {
        c->username = erase_and_free(c->username);
        c->password = erase_and_free(c->password);
        c->identity_token = erase_and_free(c->identity_token);
}

static char *runtime_auth_path(void) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        char *p = NULL;

        if (!isempty(xdg))
                return strjoin(xdg, "/containers/auth.json");
        if (asprintf(&p, "/run/containers/%u/auth.json", (unsigned) getuid()) < 0)
                return NULL;
        return p;
}

int ctl_credentials_store_path(const char *authfile, char **ret) {
        const char *env = getenv("REGISTRY_AUTH_FILE");

        *ret = !isempty(authfile) ? strdup(authfile) : !isempty(env) ? strdup(env) : runtime_auth_path();
        return *ret ? 0 : -ENOMEM;
}

/* --authfile, or $REGISTRY_AUTH_FILE: the one file the caller named. */
static bool explicit_file(const char *authfile) {
        return !isempty(authfile) || !isempty(getenv("REGISTRY_AUTH_FILE"));
}

/* The files to look in, in order. */
static int candidate_files(const char *authfile, char ***ret) {
        const char *env = getenv("REGISTRY_AUTH_FILE"), *home = getenv("HOME");
        _cleanup_strv_free_ char **l = NULL;
        char *p;
        int r;

        if (explicit_file(authfile)) {
                r = strv_extend(&l, !isempty(authfile) ? authfile : env);
                *ret = TAKE_PTR(l);
                return r;
        }
        p = runtime_auth_path();
        if (!p || strv_consume(&l, p) < 0)
                return -ENOMEM;
        if (!isempty(home)) {
                FOREACH_STRING(suffix, "/.config/containers/auth.json", "/.docker/config.json") {
                        p = strjoin(home, suffix);
                        if (!p || strv_consume(&l, p) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_all_bounded(int fd, char *buf, size_t size) {
        size_t got = 0;

        for (;;) {
                ssize_t k = read(fd, buf + got, size - 1 - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                got += (size_t) k;
                if (got == size - 1)
                        return -EFBIG;
        }
        buf[got] = 0;
        return (int) got;
}

static int spawn_helper(const char *helper, int in_fd, int out_fd, pid_t *ret) {
        posix_spawn_file_actions_t fa;
        _cleanup_free_ char *prog = strjoin("docker-credential-", helper);
        char *argv[] = { prog, (char *) "get", NULL };
        int r;

        if (!prog)
                return -ENOMEM;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        r = -posix_spawnp(ret, prog, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r < 0)
                fprintf(stderr, "Error: cannot run %s: %s\n", prog, strerror(-r));
        return r;
}

static int parse_helper_answer(const char *helper, const char *out, CtlCredentials *ret) {
        json_t *j = json_loads(out, 0, NULL);
        const char *user = json_string_value(json_object_get(j, "Username"));
        const char *secret = json_string_value(json_object_get(j, "Secret"));
        int r = 0;

        if (!j || !secret) {
                fprintf(stderr, "Error: docker-credential-%s gave an answer that is not credentials.\n", helper);
                r = -EBADMSG;
        } else if (streq_ptr(user, "<token>"))
                r = (ret->identity_token = strdup(secret)) ? 0 : -ENOMEM;
        else if (!(ret->username = strdup(strempty(user))) || !(ret->password = strdup(secret)))
                r = -ENOMEM;
        json_decref(j);
        return r;
}

int ctl_credentials_from_helper(const char *helper, const char *server, CtlCredentials *ret) {
        int in[2] = { -EBADF, -EBADF }, out[2] = { -EBADF, -EBADF }, status, r;
        char buf[64 * 1024];
        pid_t pid;

        *ret = (CtlCredentials) {};
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
                r = -errno;
                goto finish;
        }
        r = spawn_helper(helper, in[0], out[1], &pid);
        in[0] = safe_close(in[0]);
        out[1] = safe_close(out[1]);
        if (r < 0)
                goto finish;
        (void) write_all_cancellable(in[1], server, strlen(server), NULL);
        in[1] = safe_close(in[1]);
        r = read_all_bounded(out[0], buf, sizeof buf);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r >= 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
                r = 0, buf[0] = 0;   /* "credentials not found": none */
        else if (r >= 0)
                r = parse_helper_answer(helper, buf, ret);
        explicit_bzero(buf, sizeof buf);
finish:
        safe_close(in[0]);
        safe_close(in[1]);
        safe_close(out[0]);
        safe_close(out[1]);
        return r < 0 ? r : 0;
}

/* The server name helpers know Docker Hub by. */
static const char *helper_server(const char *registry) {
        return streq(registry, "docker.io") ? "https://index.docker.io/v1/" : registry;
}

static int take_entry(AuthEntry *e, const char *registry, CtlCredentials *ret) {
        if (e->helper)
                return ctl_credentials_from_helper(e->helper, helper_server(registry), ret);
        ret->username = TAKE_PTR(e->username);
        ret->password = TAKE_PTR(e->password);
        ret->identity_token = TAKE_PTR(e->identity_token);
        return 0;
}

int ctl_credentials_resolve(const char *registry, const char *authfile, CtlCredentials *ret) {
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_free_ char *key = NULL;
        int r;

        *ret = (CtlCredentials) {};
        r = auth_normalize_registry(registry, &key);
        if (r >= 0)
                r = candidate_files(authfile, &files);
        if (r < 0)
                return r;
        STRV_FOREACH(f, files) {
                AuthEntry e = {};
                r = auth_file_lookup(*f, key, &e);
                /* A default place the caller may not read (another user's
                 * runtime dir, say) holds nothing for them; a file they named does. */
                if (r == -ENOENT || (r == -EACCES && !explicit_file(authfile)))
                        continue;
                if (r < 0) {
                        fprintf(stderr, "Error: cannot read credentials from %s: %s\n", *f, strerror(-r));
                        return r;
                }
                r = take_entry(&e, key, ret);
                auth_entry_done(&e);
                return r;
        }
        return 0;
}
