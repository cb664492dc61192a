/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "container.h"
#include "scope.h"
#include "fileio.h"

START_TEST(test_tables) {
        for (ContainerState s = 0; s < _CONTAINER_STATE_MAX; s++)
                ck_assert_int_eq(container_state_from_string(container_state_to_string(s)), s);
        for (MountType t = 0; t < _MOUNT_TYPE_MAX; t++)
                ck_assert_int_eq(mount_type_from_string(mount_type_to_string(t)), t);
        for (NetworkMode m = 0; m < _NETWORK_MODE_MAX; m++)
                ck_assert_int_eq(network_mode_from_string(network_mode_to_string(m)), m);
        ck_assert_str_eq(container_state_to_string(CONTAINER_PAUSED), "paused");
        ck_assert_int_eq(container_state_from_string("removing"), CONTAINER_REMOVING);
        ck_assert_int_eq(container_state_from_string("Running"), _CONTAINER_STATE_INVALID);
        ck_assert_int_eq(container_state_from_string(NULL), _CONTAINER_STATE_INVALID);
        ck_assert_ptr_null(container_state_to_string(_CONTAINER_STATE_MAX));
        ck_assert_ptr_null(container_state_to_string(_CONTAINER_STATE_INVALID));
        ck_assert_int_eq(network_mode_from_string("bridge"), NETWORK_MODE_BRIDGE);
        ck_assert_int_eq(network_mode_from_string("container"), NETWORK_MODE_CONTAINER);
        ck_assert_int_eq(network_mode_from_string("Bridge"), _NETWORK_MODE_INVALID);
}
END_TEST

START_TEST(test_names) {
        char longname[CONTAINER_NAME_MAX + 2];

        ck_assert(container_name_is_valid("web"));
        ck_assert(container_name_is_valid("a"));
        ck_assert(container_name_is_valid("0db_1.x-y"));
        ck_assert(!container_name_is_valid(""));
        ck_assert(!container_name_is_valid(NULL));
        ck_assert(!container_name_is_valid("_x"));
        ck_assert(!container_name_is_valid(".x"));
        ck_assert(!container_name_is_valid("-x"));
        ck_assert(!container_name_is_valid("a b"));
        ck_assert(!container_name_is_valid("a/b"));
        ck_assert(!container_name_is_valid("a\nb"));
        ck_assert(!container_name_is_valid("caf\xc3\xa9"));
        memset(longname, 'a', sizeof longname - 1);
        longname[CONTAINER_NAME_MAX] = 0;
        ck_assert(container_name_is_valid(longname));
        /* The longest name still makes a unit name systemd takes (255 bytes). */
        ck_assert_int_eq(CONTAINER_NAME_MAX, 243);
        {
                _cleanup_free_ char *unit = NULL;
                ck_assert_int_eq(scope_unit_name(longname, &unit), 0);
                ck_assert_uint_eq(strlen(unit), 255);
                ck_assert(scope_unit_name_is_valid(unit));
        }
        longname[CONTAINER_NAME_MAX] = 'a';
        longname[CONTAINER_NAME_MAX + 1] = 0;
        ck_assert(!container_name_is_valid(longname));

        /* The longest valid name still makes a unit name systemd accepts. */
        ck_assert_uint_eq(CONTAINER_NAME_MAX, 243);
        longname[CONTAINER_NAME_MAX] = 0;
        {
                _cleanup_free_ char *unit = NULL;
                ck_assert_int_eq(scope_unit_name(longname, &unit), 0);
                ck_assert_uint_eq(strlen(unit), 255);
                ck_assert(scope_unit_name_is_valid(unit));
        }

        for (int i = 0; i < 100; i++) {
                _cleanup_free_ char *n = NULL;
                ck_assert_int_eq(container_name_generate(&n), 0);
                ck_assert(container_name_is_valid(n));
                ck_assert_ptr_nonnull(strchr(n, '_'));
        }
}
END_TEST

START_TEST(test_ids) {
        _cleanup_free_ char *a = NULL, *b = NULL;

        ck_assert_int_eq(container_id_generate(&a), 0);
        ck_assert_int_eq(container_id_generate(&b), 0);
        ck_assert_uint_eq(strlen(a), 64);
        ck_assert(container_id_is_valid(a));
        ck_assert_str_ne(a, b);
        ck_assert(!container_id_is_valid("abc"));
        a[3] = 'G';
        ck_assert(!container_id_is_valid(a));
}
END_TEST

static Container *make_full(void) {
        Container *c;
        MountSpec m;

        ck_assert_int_eq(container_new(&c), 0);
        ck_assert_int_eq(container_id_generate(&c->id), 0);
        c->name = strdup("full_one");
        c->image_ref = strdup("docker.io/library/alpine:3.19");
        c->image_id = strdup("sha256:0123");
        c->unit = strdup("berth-full_one.scope");
        c->state = CONTAINER_EXITED;
        c->pid = 1234;
        c->pid_start_time = 987654321;
        c->exit_code = 137;
        c->exit_signal = SIGKILL;
        c->exit_status_known = true;
        c->oom_killed = true;
        c->created_usec = 1700000000000001ULL;
        c->started_usec = 1700000000000002ULL;
        c->finished_usec = 1700000000000003ULL;
        ck_assert_int_eq(strv_extend(&c->config.argv, "sh"), 0);
        ck_assert_int_eq(strv_extend(&c->config.argv, "-c"), 0);
        ck_assert_int_eq(strv_extend(&c->config.argv, "echo \"hi\" 'there'"), 0);
        ck_assert_int_eq(strv_extend(&c->config.entrypoint, "/init"), 0);
        ck_assert_int_eq(strv_extend(&c->config.env, "PATH=/bin"), 0);
        ck_assert_int_eq(strv_extend(&c->config.env, "EMPTY="), 0);
        ck_assert_int_eq(strv_extend(&c->config.labels, "com.example.a=b=c"), 0);
        c->config.cwd = strdup("/srv");
        c->config.user = strdup("1000:1000");
        c->config.hostname = strdup("box");
        c->config.network = NETWORK_MODE_HOST;
        ck_assert_int_eq(strv_extend(&c->config.security.cap_add, "CAP_NET_ADMIN"), 0);
        ck_assert_int_eq(strv_extend(&c->config.security.cap_drop, "CAP_CHOWN"), 0);
        c->config.security.read_only = true;
        c->config.security.no_new_privileges = true;
        c->config.security.seccomp_profile = strdup("unconfined");
        char *flags[_DOCKER_LIMIT_MAX] = {
                [DOCKER_LIMIT_MEMORY] = (char *) "64m",
                [DOCKER_LIMIT_MEMORY_SWAP] = (char *) "-1",
                [DOCKER_LIMIT_CPUSET_CPUS] = (char *) "0,2-3",
                [DOCKER_LIMIT_PIDS_LIMIT] = (char *) "99",
        };
        ck_assert_int_eq(limits_from_docker_flags(flags, &c->config.limits, NULL), 0);
        c->config.stop_signal = SIGINT;
        c->config.stop_timeout_usec = 3000000;
        c->config.auto_remove = c->config.tty = c->config.interactive = true;
        ck_assert_int_eq(mount_spec_parse_volume("/data:/data:ro", &m), 0);
        ck_assert_int_eq(container_add_mount(c, &m), 0);
        ck_assert_int_eq(mount_spec_parse_tmpfs("/run:size=64m,mode=755,noexec", &m), 0);
        ck_assert_int_eq(container_add_mount(c, &m), 0);
        return c;
}

static void assert_same(const Container *a, const Container *b) {
        _cleanup_free_ char *ja = NULL, *jb = NULL;
        json_t *x, *y;

        ck_assert_int_eq(container_to_json(a, &x), 0);
        ck_assert_int_eq(container_to_json(b, &y), 0);
        ja = json_dumps(x, JSON_SORT_KEYS);
        jb = json_dumps(y, JSON_SORT_KEYS);
        json_decref(x);
        json_decref(y);
        ck_assert_str_eq(ja, jb);
}

START_TEST(test_json_roundtrip) {
        _cleanup_(container_freep) Container *c = make_full(), *d = NULL;
        char * const *l;
        json_t *j;

        ck_assert_int_eq(container_to_json(c, &j), 0);
        ck_assert_int_eq(container_from_json(j, &d), 0);
        json_decref(j);
        assert_same(c, d);
        /* Spot checks on the parsed side, so a symmetric bug cannot hide. */
        ck_assert_str_eq(d->name, "full_one");
        ck_assert_int_eq(d->state, CONTAINER_EXITED);
        ck_assert_int_eq(d->exit_code, 137);
        ck_assert(d->oom_killed);
        ck_assert_int_eq(d->pidfd, -EBADF);
        ck_assert_uint_eq(d->pid_start_time, 987654321);
        ck_assert_uint_eq(d->finished_usec, 1700000000000003ULL);
        l = d->config.argv;
        ck_assert_str_eq(l[2], "echo \"hi\" 'there'");
        ck_assert_str_eq(d->config.labels[0], "com.example.a=b=c");
        ck_assert_str_eq(d->config.env[1], "EMPTY=");
        ck_assert_int_eq(d->config.network, NETWORK_MODE_HOST);
        ck_assert_uint_eq(d->config.limits.memory_max, 64ULL << 20);
        ck_assert_uint_eq(d->config.limits.memory_swap_max, LIMIT_INFINITY);
        ck_assert(d->config.limits.memory_swap_max_set);
        ck_assert_uint_eq(d->config.limits.allowed_cpus[0], 0x0d);
        ck_assert_uint_eq(d->config.n_mounts, 2);
        ck_assert_int_eq(d->config.mounts[1].type, MOUNT_TYPE_TMPFS);
        ck_assert_uint_eq(d->config.mounts[1].tmpfs_mode, 0755);
        ck_assert_str_eq(d->config.mounts[1].options, "noexec");
        ck_assert(d->config.mounts[0].read_only);
        ck_assert_str_eq(d->config.security.seccomp_profile, "unconfined");
        ck_assert_int_eq(d->config.stop_signal, SIGINT);
        ck_assert(d->config.tty);
}
END_TEST

START_TEST(test_json_rejects) {
        static const char *const bad[] = {
                "{}",
                "{\"id\":\"abc\",\"name\":\"x\",\"state\":\"running\"}",
                "{\"id\":\"" "0000000000000000000000000000000000000000000000000000000000000000"
                "\",\"name\":\"-x\",\"state\":\"running\"}",
                "{\"id\":\"" "0000000000000000000000000000000000000000000000000000000000000000"
                "\",\"name\":\"x\",\"state\":\"sleeping\"}",
                "{\"id\":\"" "0000000000000000000000000000000000000000000000000000000000000000"
                "\",\"name\":\"x\",\"state\":\"created\",\"config\":{\"network\":\"overlay\"}}",
                "{\"id\":\"" "0000000000000000000000000000000000000000000000000000000000000000"
                "\",\"name\":\"x\",\"state\":\"created\",\"config\":{\"argv\":[1]}}",
                "{\"id\":\"" "0000000000000000000000000000000000000000000000000000000000000000"
                "\",\"name\":\"x\",\"state\":\"created\",\"config\":{\"mounts\":[{\"type\":\"bind\",\"target\":\"rel\"}]}}",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Container *c = NULL;
                json_t *j = json_loads(bad[i], 0, NULL);

                ck_assert_ptr_nonnull(j);
                ck_assert_int_lt(container_from_json(j, &c), 0);
                ck_assert_ptr_null(c);
                json_decref(j);
        }
}
END_TEST

static void add_endpoint(ContainerConfig *cfg, char id_digit) {
        ContainerEndpoint ep = {};

        ep.network_id = malloc(65);
        ck_assert_ptr_nonnull(ep.network_id);
        memset(ep.network_id, id_digit, 64);
        ep.network_id[64] = 0;
        ck_assert_int_eq(container_add_endpoint(cfg, &ep), 0);
}

/* A disconnect leaves a hole that the next connect fills; the others keep
 * their slots (their eth and host veth names) through a save and a load. */
START_TEST(test_endpoint_slots) {
        _cleanup_(container_freep) Container *c = make_full(), *d = NULL;
        ContainerEndpoint *ep;
        json_t *j;

        c->config.network = NETWORK_MODE_BRIDGE;
        add_endpoint(&c->config, 'a');
        add_endpoint(&c->config, 'b');
        add_endpoint(&c->config, 'c');
        ep = container_find_endpoint(&c->config, c->config.endpoints[1].network_id);
        container_remove_endpoint(&c->config, ep);
        ck_assert_uint_eq(c->config.endpoints[1].slot, 2);
        add_endpoint(&c->config, 'd');
        ck_assert_uint_eq(c->config.endpoints[2].slot, 1);

        ck_assert_int_eq(container_to_json(c, &j), 0);
        ck_assert_int_eq(container_from_json(j, &d), 0);
        json_decref(j);
        assert_same(c, d);
        ck_assert_uint_eq(d->config.n_endpoints, 3);
        ck_assert_uint_eq(d->config.endpoints[0].slot, 0);
        ck_assert_uint_eq(d->config.endpoints[1].slot, 2);
        ck_assert_uint_eq(d->config.endpoints[2].slot, 1);
        add_endpoint(&d->config, 'e');
        ck_assert_uint_eq(d->config.endpoints[3].slot, 3);
}
END_TEST

/* State written before slots: an endpoint's slot is its place in the list.
 * Two endpoints in one slot, or one past the last, are refused. */
START_TEST(test_endpoint_slots_json) {
#define ID64(x) x x x x x x x x x x x x x x x x
#define NET(d, slot) "{\"network_id\":\"" ID64(d d d d) "\"" slot "}"
#define STATE(eps) "{\"id\":\"" ID64("0000") "\",\"name\":\"x\",\"state\":\"created\"," \
                   "\"config\":{\"network\":\"bridge\",\"endpoints\":[" eps "]}}"
        static const char *const bad[] = {
                STATE(NET("a", ",\"slot\":1") "," NET("b", ",\"slot\":1")),
                STATE(NET("a", ",\"slot\":16")),
                STATE(NET("a", ",\"slot\":-1")),
                STATE(NET("a", "") "," NET("b", ",\"slot\":0")),
        };
        _cleanup_(container_freep) Container *c = NULL;
        json_t *j = json_loads(STATE(NET("a", "") "," NET("b", "")), 0, NULL);

        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(container_from_json(j, &c), 0);
        json_decref(j);
        ck_assert_uint_eq(c->config.endpoints[0].slot, 0);
        ck_assert_uint_eq(c->config.endpoints[1].slot, 1);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Container *x = NULL;

                j = json_loads(bad[i], 0, NULL);
                ck_assert_ptr_nonnull(j);
                ck_assert_int_lt(container_from_json(j, &x), 0);
                ck_assert_ptr_null(x);
                json_decref(j);
        }
#undef STATE
#undef NET
#undef ID64
}
END_TEST

static int make_root(char *tmpl) {
        int fd;

        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

static size_t count_entries(int root_fd, const char *dir) {
        int fd = openat(root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;

        ck_assert_int_ge(fd, 0);
        d = fdopendir(fd);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

START_TEST(test_state_files) {
        char tmpl[] = "/tmp/test-container-XXXXXX";
        _cleanup_close_ int root = make_root(tmpl);
        _cleanup_(container_freep) Container *c = make_full(), *d = NULL;
        _cleanup_(container_table_freep) ContainerTable *reg = NULL;
        _cleanup_strv_free_ char **corrupt = NULL;
        _cleanup_free_ char *dir = NULL, *bad_id = NULL, *bad_path = NULL;

        ck_assert_int_eq(container_save(c, root, true), 0);
        c->state = CONTAINER_RUNNING;
        ck_assert_int_eq(container_save(c, root, false), 0);
        ck_assert_int_eq(container_sync(c, root), 0);
        dir = strjoin("containers/", c->id);
        /* Saved twice, durably and not: exactly one file, no temporary left
         * behind, readable by root alone either way. */
        ck_assert_uint_eq(count_entries(root, dir), 1);
        {
                _cleanup_free_ char *state = strjoin(dir, "/state.json");
                struct stat st;
                ck_assert_int_eq(fstatat(root, state, &st, 0), 0);
                ck_assert_uint_eq(st.st_mode & 07777, 0600);
        }
        ck_assert_int_eq(container_load(root, c->id, &d), 0);
        assert_same(c, d);
        ck_assert_int_eq(d->state, CONTAINER_RUNNING);

        /* A corrupt state file is reported and skipped, the good one still loads. */
        ck_assert_int_eq(container_id_generate(&bad_id), 0);
        bad_path = strjoin("containers/", bad_id);
        ck_assert_int_eq(mkdir_p_at(root, bad_path, 0700), 0);
        free(bad_path);
        bad_path = strjoin("containers/", bad_id, "/state.json");
        ck_assert_int_eq(write_string_file_atomic_at(root, bad_path, "{\"id\": tru"), 0);
        ck_assert_int_eq(mkdir_p_at(root, "containers/not-an-id", 0700), 0);
        ck_assert_int_eq(container_table_new(&reg), 0);
        ck_assert_int_eq(container_table_load(reg, root, &corrupt), 1);
        ck_assert_uint_eq(strv_length(corrupt), 1);
        ck_assert_str_eq(corrupt[0], bad_id);
        ck_assert_uint_eq(container_table_size(reg), 1);

        /* A state file moved under another id is not trusted. */
        {
                _cleanup_free_ char *other = NULL, *other_dir = NULL;
                Container *e = NULL;

                ck_assert_int_eq(container_id_generate(&other), 0);
                other_dir = strjoin("containers/", other);
                ck_assert_int_eq(renameat(root, dir, root, other_dir), 0);
                ck_assert_int_eq(container_load(root, other, &e), -EBADMSG);
                ck_assert_int_eq(container_remove_dir(root, other), 0);
        }
        ck_assert_int_eq(container_remove_dir(root, bad_id), 0);
        ck_assert_int_eq(unlinkat(root, "containers/not-an-id", AT_REMOVEDIR), 0);
        ck_assert_uint_eq(count_entries(root, "containers"), 0);
        ck_assert_int_eq(container_remove_dir(root, "../../etc"), -EINVAL);
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, tmpl), 0);
}
END_TEST

static Container *make_named(const char *id, const char *name) {
        Container *c;

        ck_assert_int_eq(container_new(&c), 0);
        c->id = strdup(id);
        c->name = strdup(name);
        return c;
}

START_TEST(test_registry) {
        _cleanup_(container_table_freep) ContainerTable *r = NULL;
        Container *c, *found;
        char id[65];
        uint64_t t0;

        ck_assert_int_eq(container_table_new(&r), 0);
        /* 2000 containers whose ids share long prefixes in pairs. */
        for (unsigned i = 0; i < 2000; i++) {
                char name[32];

                snprintf(id, sizeof id, "%08x%048x%08x", i / 2, 0, i);
                snprintf(name, sizeof name, "c%u", i);
                c = make_named(id, name);
                ck_assert_int_eq(container_table_add(r, c), 0);
        }
        ck_assert_uint_eq(container_table_size(r), 2000);

        c = make_named("ffffffff" "000000000000000000000000000000000000000000000000" "00000001", "c5");
        ck_assert_int_eq(container_table_add(r, c), -EEXIST);    /* name taken */
        free(c->name);
        c->name = strdup("c5b");
        free(c->id);
        c->id = strdup("0000000200000000000000000000000000000000000000000000000000000004");
        ck_assert_int_eq(container_table_add(r, c), -EEXIST);    /* id taken */
        container_free(c);

        t0 = now_usec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < 2000; i++) {
                char name[32];

                snprintf(name, sizeof name, "c%u", i);
                ck_assert_int_eq(container_table_find(r, name, &found), 0);
                ck_assert_str_eq(found->name, name);
                snprintf(id, sizeof id, "%08x%048x%08x", i / 2, 0, i);
                ck_assert_int_eq(container_table_find(r, id, &found), 0);
                ck_assert_str_eq(found->id, id);
        }
        /* 4000 exact lookups: hash table, not a scan. Generous bound for shared CI. */
        ck_assert_uint_lt(now_usec(CLOCK_MONOTONIC) - t0, 500000);

        ck_assert_int_eq(container_table_find(r, "0000000a", &found), -ENOTUNIQ);
        ck_assert_int_eq(container_table_find(r, "0000000a00000000000000000000000000000000000000000000000000000014",
                                                 &found), 0);
        ck_assert_int_eq(container_table_find(r, "0000000a000000000000000000000000000000000000000000000000000000", &found),
                         -ENOTUNIQ);
        /* 63 characters still fit c20 and c21. */
        ck_assert_int_eq(container_table_find(r, "0000000a0000000000000000000000000000000000000000000000000000001", &found),
                         -ENOTUNIQ);
        ck_assert_int_eq(container_table_find(r, "fff", &found), -ENOENT);
        ck_assert_int_eq(container_table_find(r, "nope", &found), -ENOENT);
        ck_assert_int_eq(container_table_find(r, "", &found), -EINVAL);

        ck_assert_int_eq(container_table_find(r, "c7", &found), 0);
        container_table_remove(r, found);
        container_free(found);
        ck_assert_int_eq(container_table_find(r, "c7", &found), -ENOENT);
        /* c6 shares c7's prefix pair: the prefix is unique now. */
        ck_assert_int_eq(container_table_find(r, "00000003", &found), 0);
        ck_assert_str_eq(found->name, "c6");
        c = make_named("0000000300000000000000000000000000000000000000000000000000000007", "c7");
        ck_assert_int_eq(container_table_add(r, c), 0);
        ck_assert_uint_eq(container_table_size(r), 2000);
}
END_TEST

START_TEST(test_registry_new_name) {
        _cleanup_(container_table_freep) ContainerTable *r = NULL;
        char id[65];

        ck_assert_int_eq(container_table_new(&r), 0);
        /* More names than the 32 x 32 plain combinations: numbered ones take over. */
        for (unsigned i = 0; i < 1500; i++) {
                Container *c;
                char *name;

                ck_assert_int_eq(container_table_new_name(r, &name), 0);
                ck_assert(container_name_is_valid(name));
                snprintf(id, sizeof id, "%064x", i);
                c = make_named(id, name);
                free(name);
                ck_assert_int_eq(container_table_add(r, c), 0);
        }
        ck_assert_uint_eq(container_table_size(r), 1500);
}
END_TEST

START_TEST(test_registry_name_wins_over_prefix) {
        _cleanup_(container_table_freep) ContainerTable *r = NULL;
        Container *found;

        ck_assert_int_eq(container_table_new(&r), 0);
        ck_assert_int_eq(container_table_add(r, make_named(
                "abc0000000000000000000000000000000000000000000000000000000000000", "one")), 0);
        ck_assert_int_eq(container_table_add(r, make_named(
                "def0000000000000000000000000000000000000000000000000000000000000", "abc")), 0);
        ck_assert_int_eq(container_table_find(r, "abc", &found), 0);
        ck_assert_str_eq(found->name, "abc");
        ck_assert_int_eq(container_table_find(r, "ab", &found), 0);
        ck_assert_str_eq(found->name, "one");
}
END_TEST

START_TEST(test_mount_specs) {
        MountSpec m;
        static const char *const bad_volumes[] = {
                "", "/a", "rel:/b", "/a:rel", "/a:/b:rw:x", "/a:/b:z", "/a:/b:", "/a::/b",
                "/a:/", "/a:/b/../c", "/a:/..", "name:/data", "/a:/b\n",
        };
        static const char *const bad_tmpfs[] = {
                "", "rel", "/t:", "/t:size=lots", "/t:mode=999", "/t:exotic", "/", "/t/..:size=1m",
        };
        static const char *const bad_mounts[] = {
                "", "type=bind", "type=bind,source=/a", "type=volume,source=a,target=/b",
                "type=bind,type=bind,source=/a,target=/b", "source=/a,target=/b",
                "type=bind,source=/a,target=/b,tmpfs-size=1m", "type=tmpfs,target=/t,source=/a",
                "type=tmpfs,target=/t,tmpfs-size=x", "type=bind,source=/a,target=/b,readonly=maybe",
                "type=bind,source=/a,target=/b,bogus=1", "type=tmpfs,target=/t,target=/u",
        };

        ck_assert_int_eq(mount_spec_parse_volume("/srv/data:/data", &m), 0);
        ck_assert_int_eq(m.type, MOUNT_TYPE_BIND);
        ck_assert_str_eq(m.source, "/srv/data");
        ck_assert_str_eq(m.target, "/data");
        ck_assert(!m.read_only);
        mount_spec_done(&m);
        ck_assert_int_eq(mount_spec_parse_volume("/:/host:ro", &m), 0);
        ck_assert(m.read_only);
        mount_spec_done(&m);

        ck_assert_int_eq(mount_spec_parse_tmpfs("/tmp", &m), 0);
        ck_assert_int_eq(m.type, MOUNT_TYPE_TMPFS);
        ck_assert_uint_eq(m.tmpfs_size, 0);
        ck_assert_ptr_null(m.options);
        mount_spec_done(&m);
        ck_assert_int_eq(mount_spec_parse_tmpfs("/run:size=64m,mode=1777,ro,nosuid,nodev", &m), 0);
        ck_assert_uint_eq(m.tmpfs_size, 64ULL << 20);
        ck_assert_uint_eq(m.tmpfs_mode, 01777);
        ck_assert(m.read_only);
        ck_assert_str_eq(m.options, "nosuid,nodev");
        mount_spec_done(&m);

        ck_assert_int_eq(mount_spec_parse_mount("type=bind,source=/a,target=/b,readonly", &m), 0);
        ck_assert(m.read_only);
        ck_assert_str_eq(m.source, "/a");
        mount_spec_done(&m);
        ck_assert_int_eq(mount_spec_parse_mount("type=bind,src=/a,dst=/b,ro=false", &m), 0);
        ck_assert(!m.read_only);
        mount_spec_done(&m);
        ck_assert_int_eq(mount_spec_parse_mount("type=tmpfs,target=/t,tmpfs-size=1g,tmpfs-mode=700", &m), 0);
        ck_assert_uint_eq(m.tmpfs_size, 1ULL << 30);
        ck_assert_uint_eq(m.tmpfs_mode, 0700);
        ck_assert_ptr_null(m.source);
        mount_spec_done(&m);

        for (size_t i = 0; i < ELEMENTSOF(bad_volumes); i++)
                ck_assert_msg(mount_spec_parse_volume(bad_volumes[i], &m) == -EINVAL, "%s", bad_volumes[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad_tmpfs); i++)
                ck_assert_msg(mount_spec_parse_tmpfs(bad_tmpfs[i], &m) == -EINVAL, "%s", bad_tmpfs[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad_mounts); i++)
                ck_assert_msg(mount_spec_parse_mount(bad_mounts[i], &m) == -EINVAL, "%s", bad_mounts[i]);
}
END_TEST

START_TEST(test_start_time) {
        uint64_t a, b;
        pid_t pid;
        int status;

        ck_assert_int_eq(pid_get_start_time(getpid(), &a), 0);
        ck_assert_int_eq(pid_get_start_time(getpid(), &b), 0);
        ck_assert_uint_eq(a, b);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                /* A comm with spaces and parentheses must not confuse the parser. */
                prctl(PR_SET_NAME, "a) b (c");
                pause();
                _exit(0);
        }
        usleep(50000);
        ck_assert_int_eq(pid_get_start_time(pid, &b), 0);
        ck_assert_uint_ge(b, a);
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_int_eq(pid_get_start_time(pid, &b), -ESRCH);
        ck_assert_int_eq(pid_get_start_time(0, &b), -EINVAL);
}
END_TEST

static pid_t spawn(int how) {
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                /* Never outlive a test that failed halfway. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (how == 0)
                        _exit(3);
                pause();
                _exit(0);
        }
        return pid;
}

typedef struct ExitSeen {
        int calls;
        sd_event *e;
} ExitSeen;

static void on_exit_cb(Container *c, void *userdata) {
        ExitSeen *s = userdata;

        s->calls++;
        (void) sd_event_exit(s->e, 0);
}

START_TEST(test_exit_collection) {
        _cleanup_(container_freep) Container *c = NULL;
        sd_event *e = NULL;
        sd_event_source *src = NULL;
        ExitSeen seen = {};

        ck_assert_int_eq(container_new(&c), 0);
        c->state = CONTAINER_RUNNING;
        ck_assert_int_eq(container_attach_pid(c, spawn(0)), 0);
        ck_assert_int_ge(c->pidfd, 0);
        ck_assert_int_eq(sd_event_new(&e), 0);
        seen.e = e;
        ck_assert_int_eq(container_watch_pidfd(e, c, on_exit_cb, &seen, &src), 0);
        ck_assert_int_eq(sd_event_loop(e), 0);
        ck_assert_int_eq(seen.calls, 1);
        ck_assert_int_eq(c->state, CONTAINER_EXITED);
        ck_assert(c->exit_status_known);
        ck_assert_int_eq(c->exit_code, 3);
        ck_assert_int_eq(c->pidfd, -EBADF);
        ck_assert_uint_gt(c->finished_usec, 0);
        sd_event_source_unref(src);

        /* Killed by a signal: 128 + signal, as shells and Docker report it. */
        c->state = CONTAINER_RUNNING;
        ck_assert_int_eq(container_attach_pid(c, spawn(1)), 0);
        ck_assert_int_eq(container_collect_exit(c), -EAGAIN);
        ck_assert_int_eq(kill(c->pid, SIGKILL), 0);
        usleep(100000);
        ck_assert_int_eq(container_collect_exit(c), 0);
        ck_assert_int_eq(c->exit_code, 137);
        ck_assert_int_eq(c->exit_signal, SIGKILL);
        sd_event_unref(e);
}
END_TEST

START_TEST(test_readopt) {
        _cleanup_(container_freep) Container *c = NULL;
        pid_t pid = spawn(1);
        int status;

        ck_assert_int_eq(container_new(&c), 0);
        c->state = CONTAINER_RUNNING;
        ck_assert_int_eq(container_attach_pid(c, pid), 0);
        c->pidfd = safe_close(c->pidfd);            /* as after a restart: not persisted */
        ck_assert_int_eq(container_readopt(c), 1);
        ck_assert_int_ge(c->pidfd, 0);
        ck_assert_int_eq(c->state, CONTAINER_RUNNING);

        /* Same pid, different start time: a reused pid is not our container. */
        c->pidfd = safe_close(c->pidfd);
        c->pid_start_time++;
        ck_assert_int_eq(container_readopt(c), 0);
        ck_assert_int_eq(c->state, CONTAINER_EXITED);
        ck_assert(!c->exit_status_known);
        ck_assert_int_eq(c->exit_code, CONTAINER_EXIT_CODE_UNKNOWN);

        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        c->state = CONTAINER_PAUSED;
        c->pid = pid;
        ck_assert_int_eq(container_readopt(c), 0);
        ck_assert_int_eq(c->state, CONTAINER_EXITED);
        c->state = CONTAINER_CREATED;
        ck_assert_int_eq(container_readopt(c), 0);
        ck_assert_int_eq(c->state, CONTAINER_CREATED);
}
END_TEST

int main(void) {
        Suite *s = suite_create("container");
        TCase *tc = tcase_create("model");
        TCase *proc = tcase_create("process");

        tcase_add_test(tc, test_tables);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_ids);
        tcase_add_test(tc, test_json_roundtrip);
        tcase_add_test(tc, test_json_rejects);
        tcase_add_test(tc, test_endpoint_slots);
        tcase_add_test(tc, test_endpoint_slots_json);
        tcase_add_test(tc, test_state_files);
        tcase_add_test(tc, test_registry);
        tcase_add_test(tc, test_registry_new_name);
        tcase_add_test(tc, test_registry_name_wins_over_prefix);
        tcase_add_test(tc, test_mount_specs);
        suite_add_tcase(s, tc);
        tcase_add_test(proc, test_start_time);
        tcase_add_test(proc, test_exit_collection);
        tcase_add_test(proc, test_readopt);
        suite_add_tcase(s, proc);
        return check_run_suite(s);
}
