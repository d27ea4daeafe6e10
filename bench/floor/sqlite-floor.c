/*
 * The SQLite floor: the least SQLite itself needs to hold a row per packet as the analyzer writes them. No
 * capture and no attribution: N rows of the analyzer's `packet_rows` shape (12 integer columns, the frame going
 * in as NULL so SQLite appends it, FLOWS flow ids round-robin as in the synthetic captures (bench/Attribution.Bench), lengths, two process
 * ids, a method code), inserted 32 a statement inside one transaction with the analyzer's pragmas and threading
 * mode, then the `flow_id` index built after the rows are committed, as the analyzer builds it. Whatever the analyzer does per row comes on top.
 * The table's columns and the pragmas mirror src/Attribution.Analyzer/Output/Schema.cs and SqliteSink.cs.
 * Build against the SQLite the analyzer ships (bench/analyzer.sh does):
 *   cc -O2 -o sqlite-floor sqlite-floor.c -I... -L DIR -l:libe_sqlite3.so -Wl,-rpath,DIR
 * Run: ./sqlite-floor OUT.db ROWS FLOWS    (prints insert and index times in ms on stderr)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define COLUMNS 12
#define PER_STATEMENT 32

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void check(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite-floor: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void exec(sqlite3 *db, const char *sql) { check(sqlite3_exec(db, sql, NULL, NULL, NULL), db, sql); }

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: sqlite-floor OUT.db ROWS FLOWS\n"); return 2; }
    long rows = atol(argv[2]), flows = atol(argv[3]);
    if (rows <= 0 || flows <= 0) { fprintf(stderr, "sqlite-floor: ROWS and FLOWS must be positive\n"); return 2; }
    remove(argv[1]);
    /* As SqliteThreading.cs sets them: no mutexes (one thread per connection), no memory statistics. */
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db;
    check(sqlite3_open(argv[1], &db), db, "open");
    exec(db, "PRAGMA foreign_keys = OFF; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
             "PRAGMA locking_mode = EXCLUSIVE; PRAGMA page_size = 65536;");
    exec(db, "CREATE TABLE packet_rows (frame INTEGER PRIMARY KEY, ts_ns INTEGER, interface_id INTEGER, flow_id INTEGER, "
             "reverse INTEGER, portless INTEGER, length INTEGER, captured_length INTEGER, src_process_id INTEGER, "
             "dst_process_id INTEGER, method_code INTEGER, reason_code INTEGER)");

    char sql[8192];
    int at = snprintf(sql, sizeof sql, "INSERT INTO packet_rows VALUES ");
    for (int r = 0; r < PER_STATEMENT; r++)
        at += snprintf(sql + at, sizeof sql - at, "%s(?,?,?,?,?,?,?,?,?,?,?,?)", r ? "," : "");
    sqlite3_stmt *many, *one;
    check(sqlite3_prepare_v2(db, sql, -1, &many, NULL), db, "prepare");
    check(sqlite3_prepare_v2(db, "INSERT INTO packet_rows VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", -1, &one, NULL), db, "prepare");

    double t0 = now_ms();
    exec(db, "BEGIN");
    long ts = 1700000000000000000L;
    for (long i = 0; i < rows; i++) {
        long slot = i % PER_STATEMENT, left = rows - (i - slot);
        sqlite3_stmt *s = left >= PER_STATEMENT ? many : one;
        int c = s == many ? (int)slot * COLUMNS : 0;
        long flow = i % flows + 1, length = 60 + (i * 37) % 1400;
        ts += 1000 + (i & 1023);
        sqlite3_bind_null(s, c + 1);                    /* frame: the next rowid */
        sqlite3_bind_int64(s, c + 2, ts);
        sqlite3_bind_int64(s, c + 3, 1);
        sqlite3_bind_int64(s, c + 4, flow);
        sqlite3_bind_int64(s, c + 5, i & 1);
        sqlite3_bind_int64(s, c + 6, 0);
        sqlite3_bind_int64(s, c + 7, length);
        sqlite3_bind_int64(s, c + 8, length);
        sqlite3_bind_int64(s, c + 9, flow % 40 + 1);
        sqlite3_bind_int64(s, c + 10, flow % 40 + 41);
        sqlite3_bind_int64(s, c + 11, 3);
        sqlite3_bind_null(s, c + 12);
        if (s == one || slot == PER_STATEMENT - 1) {
            check(sqlite3_step(s), db, "insert");
            sqlite3_reset(s);
        }
    }
    exec(db, "COMMIT");
    double t1 = now_ms();
    exec(db, "CREATE INDEX packet_rows_flow ON packet_rows(flow_id)"); /* after the rows' commit, as SqliteSink.Commit */
    double t2 = now_ms();
    sqlite3_finalize(many);
    sqlite3_finalize(one);
    sqlite3_close(db);
    fprintf(stderr, "sqlite %s: %ld rows inserted in %.0f ms, flow_id index %.0f ms, total %.0f ms\n",
            sqlite3_libversion(), rows, t1 - t0, t2 - t1, t2 - t0);
    return 0;
}
