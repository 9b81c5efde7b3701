/* daemon-test.c — vezad as a program: options, configuration, start-up
 * against a shared database, clean shutdown on SIGTERM
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "test-utils.h"
#include "veza-embedded-pg.h"

#include <signal.h>
#include <string.h>

static void
test_version (void)
{
  const char *args[] = { "--version", NULL };
  Daemon *d = daemon_start (args);

  g_assert_cmpint (daemon_finish (d, 10), ==, 0);
  g_assert_true (g_str_has_prefix (d->log->str, "vezad " VEZA_VERSION));
  g_assert_nonnull (strstr (d->log->str, "plugin ABI 1."));
  daemon_free (d);
}

static void
test_help (void)
{
  const char *args[] = { "--help", NULL };
  Daemon *d = daemon_start (args);

  g_assert_cmpint (daemon_finish (d, 10), ==, 0);
  for (guint i = 0; i < 5; i++)
    {
      const char *opts[] = { "--http-port", "--rtmp-port", "--data-dir", "--database-url",
                             "--plugin-dir" };
      g_assert_nonnull (strstr (d->log->str, opts[i]));
    }
  daemon_free (d);
}

static void
test_bad_config (void)
{
  g_autofree char *path = g_build_filename (test_tmp_dir (), "bad.conf", NULL);
  const char *args[] = { "--config", path, NULL };
  Daemon *d;

  g_assert_true (g_file_set_contents (path, "[hls]\nlive-window=1\n", -1, NULL));
  d = daemon_start (args);
  g_assert_cmpint (daemon_finish (d, 10), ==, 2);
  g_assert_nonnull (strstr (d->log->str, "live-window"));
  daemon_free (d);

  g_assert_true (g_file_set_contents (path, "[server\nhttp-port=80", -1, NULL));
  d = daemon_start (args);
  g_assert_cmpint (daemon_finish (d, 10), ==, 2);
  daemon_free (d);

  {
    const char *port_args[] = { "--http-port", "70000", NULL };

    d = daemon_start (port_args);
    g_assert_cmpint (daemon_finish (d, 10), ==, 2);
    daemon_free (d);
  }
}

/* Two daemons starting at the same moment on one database both come up
 * (migrations are serialised by an advisory lock), serve, and stop cleanly
 * on SIGTERM. The configuration file sets what the options do not. */
static void
test_two_nodes_one_database (void)
{
  g_autofree char *cluster = g_build_filename (test_tmp_dir (), "shared-pg", NULL);
  g_autoptr(VezaEmbeddedPg) pg = veza_embedded_pg_new (cluster);
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = g_build_filename (test_tmp_dir (), "node.conf", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *dir_a = g_build_filename (test_tmp_dir (), "node-a", NULL);
  g_autofree char *dir_b = g_build_filename (test_tmp_dir (), "node-b", NULL);
  Daemon *a, *b;

  veza_embedded_pg_start (pg, &error);
  g_assert_no_error (error);

  contents = g_strdup_printf ("[server]\nhttp-port=8080\nrtmp-port=0\ndatabase-url=%s\n"
                              "[hls]\nlive-window=4\n", veza_embedded_pg_get_conninfo (pg));
  g_assert_true (g_file_set_contents (conf, contents, -1, NULL));

  {
    /* The command line overrides the file's http-port. */
    const char *args_a[] = { "--config", conf, "--http-port", "0", "--data-dir", dir_a, NULL };
    const char *args_b[] = { "--config", conf, "--http-port", "0", "--data-dir", dir_b, NULL };

    a = daemon_start (args_a);
    b = daemon_start (args_b);
  }

  g_assert_true (daemon_wait_log (a, "ready:", 60));
  g_assert_true (daemon_wait_log (b, "ready:", 60));
  g_assert_nonnull (strstr (a->log->str, "listening on http://127.0.0.1:"));
  g_assert_nonnull (strstr (a->log->str, "listening on rtmp://127.0.0.1:"));
  g_assert_null (strstr (a->log->str, "127.0.0.1:8080"));
  /* Exactly one of them applied the migrations. */
  g_assert_true ((strstr (a->log->str, "applied 2 database migrations") != NULL) !=
                 (strstr (b->log->str, "applied 2 database migrations") != NULL));
  /* No embedded cluster when a database-url is given. */
  {
    g_autofree char *cluster_a = g_build_filename (dir_a, "postgres", NULL);
    g_assert_false (g_file_test (cluster_a, G_FILE_TEST_EXISTS));
  }

  g_subprocess_send_signal (a->proc, SIGTERM);
  g_subprocess_send_signal (b->proc, SIGTERM);
  g_assert_cmpint (daemon_finish (a, 30), ==, 0);
  g_assert_cmpint (daemon_finish (b, 30), ==, 0);
  g_assert_nonnull (strstr (a->log->str, "stopped"));
  daemon_free (a);
  daemon_free (b);
  veza_embedded_pg_stop (pg);
}

/* With no database-url, vezad runs its own cluster and stops it on exit. */
static void
test_embedded_default (void)
{
  g_autofree char *dir = g_build_filename (test_tmp_dir (), "embedded", NULL);
  g_autofree char *pid_file = g_build_filename (dir, "postgres", "data", "postmaster.pid", NULL);
  const char *args[] = { "--data-dir", dir, "--http-port", "0", "--rtmp-port", "0", NULL };
  Daemon *d = daemon_start (args);

  g_assert_true (daemon_wait_log (d, "ready:", 60));
  g_assert_true (g_file_test (pid_file, G_FILE_TEST_EXISTS));
  g_subprocess_send_signal (d->proc, SIGINT);
  g_assert_cmpint (daemon_finish (d, 30), ==, 0);
  g_assert_false (g_file_test (pid_file, G_FILE_TEST_EXISTS));
  daemon_free (d);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  g_test_add_func ("/veza/daemon/version", test_version);
  g_test_add_func ("/veza/daemon/help", test_help);
  g_test_add_func ("/veza/daemon/bad-config", test_bad_config);
  g_test_add_func ("/veza/daemon/embedded-default", test_embedded_default);
  g_test_add_func ("/veza/daemon/two-nodes-one-database", test_two_nodes_one_database);

  return g_test_run ();
}
