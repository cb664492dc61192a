/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "berthctl.h"

/* Columns as docker's tabwriter lays them out: each at least 10 characters
 * wide and 3 wider than its widest cell, the last one not padded. */
#define TABLE_MIN_WIDTH 10
#define TABLE_PADDING 3

Table *table_new(size_t n_columns) {
        Table *t = calloc(1, sizeof *t);

        if (t)
                t->n_columns = n_columns;
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        strv_free(t->cells);
        free(t);
        return NULL;
}

/* Cells hold what containers and images say (a process's command line, a
 * name): escaped, they can neither drive the terminal nor break the layout
 * with a tab or a newline. */
int table_add(Table *t, const char *cell) {
        char *c = escape_terminal(strempty(cell));

        if (!c)
                return -ENOMEM;
        /* Doubling, not strv_extend(): ps may have thousands of cells. */
        if (t->n_cells + 1 >= t->n_allocated) {
                size_t n = MAX(t->n_allocated * 2, 64u);
                char **p = reallocarray(t->cells, n, sizeof *p);
                if (!p) {
                        free(c);
                        return -ENOMEM;
                }
                t->cells = p;
                t->n_allocated = n;
        }
        t->cells[t->n_cells++] = c;
        t->cells[t->n_cells] = NULL;
        return 0;
}

int table_add_many(Table *t, ...) {
        va_list ap;
        int r = 0;

        va_start(ap, t);
        for (size_t i = 0; r >= 0 && i < t->n_columns; i++)
                r = table_add(t, va_arg(ap, const char *));
        va_end(ap);
        return r;
}

/* Characters, not bytes: "…" is one column wide. */
size_t utf8_width_n(const char *s, size_t len) {
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                if (((unsigned char) s[i] & 0xC0) != 0x80)
                        n++;
        return n;
}

size_t utf8_width(const char *s) {
        return utf8_width_n(s, strlen(s));
}

static void pad(FILE *f, size_t n) {
        static const char spaces[] = "                                ";

        for (; n > 0; n -= MIN(n, sizeof spaces - 1))
                fwrite(spaces, 1, MIN(n, sizeof spaces - 1), f);
}

static size_t column_width(size_t widest_cell) {
        return MAX(widest_cell + TABLE_PADDING, (size_t) TABLE_MIN_WIDTH);
}

static void print_cell(FILE *f, const char *cell, size_t len, size_t width, bool last) {
        fwrite(cell, 1, len, f);
        if (last)
                fputc('\n', f);
        else
                pad(f, width - utf8_width_n(cell, len));
}

void table_print(const Table *t, FILE *f) {
        _cleanup_free_ size_t *widths = NULL;

        if (t->n_columns == 0)
                return;
        widths = calloc(t->n_columns, sizeof *widths);
        if (!widths)
                return;
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t *w = &widths[i % t->n_columns];
                *w = MAX(*w, utf8_width(t->cells[i]));
        }
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t col = i % t->n_columns;
                print_cell(f, t->cells[i], strlen(t->cells[i]), column_width(widths[col]),
                           col + 1 == t->n_columns);
        }
}

/* The length of the cell at p, column col of n: up to the next tab, or the
 * rest of the line in the last column (cells may hold tabs there). */
static size_t cell_len(const char *p, size_t col, size_t n) {
        const char *tab = col + 1 < n ? strchr(p, '\t') : NULL;
        return tab ? (size_t) (tab - p) : strlen(p);
}

static const char *cell_next(const char *p, size_t len) {
        return p + len + (p[len] == '\t');
}

void table_print_lines(const char *lines, size_t size, FILE *f) {
        _cleanup_free_ size_t *widths = NULL;
        const char *end = lines + size;
        size_t n = 1;

        for (const char *p = lines; *p; p++)
                n += *p == '\t';
        widths = calloc(n, sizeof *widths);
        if (!widths)
                return;
        for (const char *p = lines; p < end; p++)        /* p++: over the line's NUL */
                for (size_t col = 0, len; col < n; col++, p = cell_next(p, len)) {
                        len = cell_len(p, col, n);
                        widths[col] = MAX(widths[col], utf8_width_n(p, len));
                }
        for (const char *p = lines; p < end; p++)
                for (size_t col = 0, len; col < n; col++, p = cell_next(p, len)) {
                        len = cell_len(p, col, n);
                        print_cell(f, p, len, column_width(widths[col]), col + 1 == n);
                }
}

/* Go's units.HumanDuration, which docker prints in CREATED and STATUS. */
char *format_human_duration(uint64_t usec, char *buf, size_t n) {
        uint64_t s = usec / 1000000, m = s / 60, h = (usec + 1800000000ULL) / 3600000000ULL;

        if (s < 1)
                snprintf(buf, n, "Less than a second");
        else if (s < 60)
                snprintf(buf, n, "%llu second%s", (unsigned long long) s, s == 1 ? "" : "s");
        else if (m == 1)
                snprintf(buf, n, "About a minute");
        else if (m < 60)
                snprintf(buf, n, "%llu minutes", (unsigned long long) m);
        else if (h == 1)
                snprintf(buf, n, "About an hour");
        else if (h < 48)
                snprintf(buf, n, "%llu hours", (unsigned long long) h);
        else if (h < 24 * 7 * 2)
                snprintf(buf, n, "%llu days", (unsigned long long) h / 24);
        else if (h < 24 * 30 * 2)
                snprintf(buf, n, "%llu weeks", (unsigned long long) h / 24 / 7);
        else if (h < 24 * 365 * 2)
                snprintf(buf, n, "%llu months", (unsigned long long) h / 24 / 30);
        else
                snprintf(buf, n, "%llu years", (unsigned long long) (usec / 3600000000ULL) / 24 / 365);
        return buf;
}
