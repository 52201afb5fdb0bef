/*
 * sqlite_engine.c — the SQLite engine's table of operations (engine/engine.h)
 * and its claim on --db strings: every string that is not another engine's is
 * a SQLite path (the in-memory check database has none).
 */
#include "sqlite_int.h"

static int sq_accepts(const char *target)
{
    return !ds_engine_is_postgres(target);
}

/* One runner per database (the run lock): every due item is this run's. */
static int sq_claim(ds_writer *w, const ds_item *it, const ds_item_state *st, int64_t now,
                    int64_t lease_until, ds_diag *d)
{
    (void)w; (void)it; (void)st; (void)now; (void)lease_until; (void)d;
    return 1;
}

const ds_engine ds_sqlite_engine = {
    .name = "sqlite",
    .accepts = sq_accepts,
    .default_busy_timeout = ds_sqlite_default_busy_timeout,
    .open = ds_sqlite_open,
    .close = ds_sqlite_close,
    .target = ds_sqlite_target,
    .busy_timeout = ds_sqlite_busy_timeout,
    .lock = ds_sqlite_lock,
    .unlock = ds_sqlite_unlock,
    .migrate = ds_sqlite_migrate,
    .migrated = ds_sqlite_migrated,
    .exec_script = ds_sqlite_exec_script,
    .describe = ds_sqlite_describe,
    .full_scans = ds_sqlite_full_scans,
    .table_exists = ds_sqlite_table_exists,
    .table_rows = ds_sqlite_table_rows,
    .column_exists = ds_sqlite_column_exists,
    .schema_names = ds_sqlite_schema_names,
    .plan_store = ds_sqlite_plan_store,
    .plan_load = ds_sqlite_plan_load,
    .state_load = ds_sqlite_state_load,
    .configure = ds_sqlite_configure,
    .source_open = ds_sqlite_source_open,
    .source_open_isolated = ds_sqlite_pool_open,
    .source_close = ds_sqlite_source_close,
    .source_busy_timeout = ds_sqlite_source_busy_timeout,
    .source_cancel_on = ds_sqlite_source_cancel_on,
    .exec_item = ds_sqlite_exec_item,
    .writer_open = ds_sqlite_writer_open,
    .writer_close = ds_sqlite_writer_close,
    .writer_concurrent = ds_sqlite_writer_concurrent,
    .put = ds_sqlite_put,
    .fail = ds_sqlite_fail,
    .batch_begin = ds_sqlite_batch_begin,
    .batch_commit = ds_sqlite_batch_commit,
    .batch_abort = ds_sqlite_batch_abort,
    .record_run = ds_sqlite_record_run,
    .data_version = ds_sqlite_data_version,
    .claim = sq_claim,
    .plan_fingerprint = ds_sqlite_plan_fingerprint,
    .snapshot_begin = ds_sqlite_snapshot_begin,
    .snapshot_end = ds_sqlite_snapshot_end,
    .cache_get = ds_sqlite_cache_get,
    .cache_scan = ds_sqlite_cache_scan,
    .cache_clear = ds_sqlite_cache_clear,
    .explain = ds_sqlite_explain,
    .history_load = ds_sqlite_history_load,
    .history_totals = ds_sqlite_history_totals,
    .errmsg = ds_sqlite_errmsg,
    .confirm = ds_sqlite_confirm,
};
