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

int table_add(Table *t, const char *cell) {
        char *c = strdup(strempty(cell));

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
size_t utf8_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n++;
        return n;
}

static void pad(FILE *f, size_t n) {
        static const char spaces[] = "                                ";

        for (; n > 0; n -= MIN(n, sizeof spaces - 1))
                fwrite(spaces, 1, MIN(n, sizeof spaces - 1), f);
}

void table_print(const Table *t, FILE *f) {
        _cleanup_free_ size_t *widths = NULL, *cell_widths = NULL;

        if (t->n_columns == 0)
                return;
        widths = calloc(t->n_columns, sizeof *widths);
        cell_widths = reallocarray(NULL, MAX(t->n_cells, 1u), sizeof *cell_widths);
        if (!widths || !cell_widths)
                return;
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t *w = &widths[i % t->n_columns];
                cell_widths[i] = utf8_width(t->cells[i]);
                *w = MAX(*w, cell_widths[i] + TABLE_PADDING);
        }
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t col = i % t->n_columns;
                fputs(t->cells[i], f);
                if (col + 1 == t->n_columns)
                        fputc('\n', f);
                else
                        pad(f, MAX(widths[col], (size_t) TABLE_MIN_WIDTH) - cell_widths[i]);
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
