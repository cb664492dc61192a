/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <unistd.h>

#include "check-util.h"
#include "config.h"
#include "fileio.h"

typedef struct Settings {
        char *root;
        int log_level;
        unsigned max;
} Settings;

static const ConfigItem items[] = {
        { "Daemon", "Root", config_parse_string, offsetof(Settings, root) },
        { "Daemon", "LogLevel", config_parse_log_level, offsetof(Settings, log_level) },
        { "Images", "Max", config_parse_unsigned, offsetof(Settings, max) },
};

static int parse_file(const char *text, Settings *s, unsigned *line) {
        char path[] = "/tmp/test-config-XXXXXX";
        int fd = mkstemp(path), r;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write_all_cancellable(fd, text, strlen(text), NULL), 0);
        close(fd);
        r = config_parse_file(path, items, ELEMENTSOF(items), s, line);
        unlink(path);
        return r;
}

START_TEST(test_file) {
        Settings s = { .log_level = 6 };
        unsigned line = 0;

        ck_assert_int_eq(parse_file("# berthd.conf\n[Daemon]\n  Root = /srv/berth # not a comment  \n"
                                    "; nor this\nLogLevel=debug\n\n[Images]\nMax=7\n", &s, &line), 0);
        /* Only config_parse_text() with CONFIG_VALUE_COMMENTS cuts " #". */
        ck_assert_str_eq(s.root, "/srv/berth # not a comment");
        ck_assert_int_eq(s.log_level, 7);
        ck_assert_uint_eq(s.max, 7);
        ck_assert_int_eq(parse_file("[Daemon]\nRoot=/a\n[Images]\nRoot=/b\n", &s, &line), -EINVAL);
        ck_assert_uint_eq(line, 4);
        ck_assert_int_eq(parse_file("Root=/a\n", &s, &line), -EINVAL);
        ck_assert_uint_eq(line, 1);
        ck_assert_int_eq(parse_file("[Daemon]\n\n[Daemon\n", &s, &line), -EINVAL);
        ck_assert_uint_eq(line, 3);
        ck_assert_int_eq(parse_file("[Daemon]\nLogLevel\n", &s, &line), -EINVAL);
        ck_assert_uint_eq(line, 2);
        ck_assert_int_eq(parse_file("[Daemon]\nMax=1\n", &s, &line), -EINVAL);
        ck_assert_int_eq(config_parse_file("/nonexistent/berthd.conf", items, ELEMENTSOF(items), &s, &line), 0);
        free(s.root);
}
END_TEST

typedef struct Seen {
        char log[512];
        int fail_at;
} Seen;

static int record(const char *section, const char *key, const char *value, unsigned line, void *userdata) {
        Seen *s = userdata;
        size_t n = strlen(s->log);

        snprintf(s->log + n, sizeof s->log - n, "%u:%s%s%s%s%s;", line, section, key ? "." : "", strempty(key),
                 key ? "=" : "", strempty(value));
        return (int) line == s->fail_at ? -ENOKEY : 0;
}

START_TEST(test_text) {
        char text[] = "[A]\nk = v # note\nk=v\t#tab\nx=a#b\n\n[A]\nk=\n[Free form]\n Any Key = 1 \n";
        char again[] = "[A]\nk=v # kept\n";
        char bad[] = "[A]\nk=1\nj=2\n";
        Seen s = { .fail_at = -1 };
        unsigned line = 0;

        ck_assert_int_eq(config_parse_text(text, CONFIG_VALUE_COMMENTS, record, &s, &line), 0);
        ck_assert_str_eq(s.log, "1:A;2:A.k=v;3:A.k=v;4:A.x=a#b;6:A;7:A.k=;8:Free form;9:Free form.Any Key=1;");
        s = (Seen) { .fail_at = -1 };
        ck_assert_int_eq(config_parse_text(again, 0, record, &s, &line), 0);
        ck_assert_str_eq(s.log, "1:A;2:A.k=v # kept;");
        s = (Seen) { .fail_at = 3 };
        ck_assert_int_eq(config_parse_text(bad, 0, record, &s, &line), -ENOKEY);
        ck_assert_uint_eq(line, 3);
        ck_assert_str_eq(s.log, "1:A;2:A.k=1;3:A.j=2;");
}
END_TEST

static Suite *config_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("parse");

        tcase_add_test(tc, test_file);
        tcase_add_test(tc, test_text);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run_suite(config_suite());
}
