/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.h: apiloginctl's tables: a header line and rows of cells, each column as wide as
 * its widest cell, two spaces between columns; control characters in cells print as '?'
 * (cells may hold text that came from a login API). */
#pragma once

#include <stddef.h>
#include <stdio.h>

#define TABLE_COLS_MAX 12

struct table {
        size_t cols, rows, cap;
        unsigned indent;
        size_t width[TABLE_COLS_MAX];
        char **cells; /* rows * cols, row 0 is the header; NULL cell: allocation failed */
};

/* Start a table with the headers given (NULL-terminated list, at most TABLE_COLS_MAX). */
void table_init(struct table *t, unsigned indent, ...);
/* Add a row: as many cells as headers, then NULL. A cell NULL prints as "-". */
void table_row(struct table *t, ...);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);
