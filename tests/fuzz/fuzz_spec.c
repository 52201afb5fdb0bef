/*
 * fuzz_spec.c — libFuzzer harness over the spec loader and the SQL validator:
 * the input is one spec file; it is loaded, then every item is prepared against
 * the fixture schema. Nothing may crash, leak or trip a sanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include "ds_compiler.h"

static ds_db *schema_db(void)
{
    static ds_db *db;
    static int tried;
    if (tried) return db;
    tried = 1;
    ds_diag d;
    ds_diag_init(&d);
    if (ds_db_open(NULL, DS_DB_MEMORY, &db, &d) == 0) {
        const char *path = getenv("DS_FUZZ_SCHEMA");
        char *sql = ds_read_file(path ? path : "tests/fixtures/schema.sql", NULL);
        if (sql) ds_db_exec_script(db, "schema.sql", sql, &d);
        free(sql);
    }
    ds_diag_free(&d);
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ds_plan p;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);
    ds_spec_load_buf("fuzz.yaml", (const char *)data, size, &p, &d);
    ds_sql_validate(schema_db(), &p, &d);
    ds_diag_sort(&d);
    char *out = ds_diag_render(&d, DS_FMT_JSON);
    free(out);
    ds_plan_free(&p);
    ds_diag_free(&d);
    return 0;
}
