/*
 * prom.h — `status --format prometheus`: the Prometheus text exposition
 * format (version 0.0.4) for node_exporter's textfile collector.
 */
#ifndef DS_PROM_H
#define DS_PROM_H

#include "ds_common.h"
#include "ds_history.h"
#include "ds_read.h"

/* Appends the metrics of the status report r and the history totals t (may
 * be NULL: no failure counters) to b. Label values are escaped per the
 * format (\\, \", \n) and made valid UTF-8. Cannot fail (b records OOM). */
void cli_prom_status(const ds_report *r, const ds_hist_totals *t, ds_buf *b);
/* Appends one label value, escaped. Cannot fail (b records OOM). */
void cli_prom_label(ds_buf *b, const char *s);

#endif
