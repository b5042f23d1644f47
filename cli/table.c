/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.c: see table.h. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static void add_row(struct table *t, va_list ap)
{
        char **cells;

        if (t->rows == t->cap) {
                size_t cap = t->cap ? 2 * t->cap : 16;

                cells = realloc(t->cells, cap * t->cols * sizeof(*cells));
                if (!cells)
                        return; /* the row is left out; printing goes on */
                t->cells = cells;
                t->cap = cap;
        }
        cells = t->cells + t->rows * t->cols;
        for (size_t c = 0; c < t->cols; c++) {
                const char *s = va_arg(ap, const char *);

                cells[c] = strdup(s ? s : "-");
                if (cells[c] && strlen(cells[c]) > t->width[c])
                        t->width[c] = strlen(cells[c]);
        }
        t->rows++;
}

void table_init(struct table *t, unsigned indent, ...)
{
        va_list ap;

        *t = (struct table){ .indent = indent };
        va_start(ap, indent);
        while (t->cols < TABLE_COLS_MAX && va_arg(ap, const char *))
                t->cols++;
        va_end(ap);
        va_start(ap, indent);
        add_row(t, ap);
        va_end(ap);
}

void table_row(struct table *t, ...)
{
        va_list ap;

        va_start(ap, t);
        add_row(t, ap);
        va_end(ap);
}

/* A cell on one line: every control character (newline and tab too) as '?'. */
static void put_cell(FILE *f, const char *s)
{
        for (; *s; s++)
                fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

void table_print(const struct table *t, FILE *f)
{
        for (size_t r = 0; r < t->rows; r++) {
                fprintf(f, "%*s", (int)t->indent, "");
                for (size_t c = 0; c < t->cols; c++) {
                        const char *s = t->cells[r * t->cols + c];
                        size_t len = s ? strlen(s) : 1;

                        put_cell(f, s ? s : "?");
                        if (c + 1 < t->cols)
                                fprintf(f, "%*s", (int)(t->width[c] - len + 2), "");
                }
                fputc('\n', f);
        }
}

void table_free(struct table *t)
{
        for (size_t i = 0; i < t->rows * t->cols; i++)
                free(t->cells[i]);
        free(t->cells);
        *t = (struct table){ 0 };
}
