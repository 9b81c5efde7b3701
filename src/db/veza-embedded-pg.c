/* veza-embedded-pg.c — a private PostgreSQL cluster in the data directory
 *
 * Layout of the cluster directory (mode 0700):
 *
 *   data/          the cluster (PGDATA), made by initdb into data.new first
 *   run/           the Unix socket (the only listening socket: no TCP)
 *   postgres.log   the output of initdb and pg_ctl and the server's log
 *
 * The cluster is started with pg_ctl, which detaches the server; it is
 * stopped with pg_ctl stop -m fast. PostgreSQL refuses to run as root, so
 * when this process is root the programs run as the 'postgres' system user,
 * which then owns the cluster directory.
 *
 * A server left running in the same data directory by a crashed run is
 * stopped and started again rather than reused: its settings (socket
 * directory, port) may not be the ones this run writes, and a fresh start
 * is what a normal start-up does anyway. A postmaster.pid whose process is
 * not a PostgreSQL server of this directory is stale and removed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE

#include "veza-embedded-pg.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (veza-embedded-pg-error-quark, veza_embedded_pg_error)

#define ROLE_NAME "veza"
#define DB_NAME "veza"
#define SYSTEM_USER "postgres"

/* Bounds on each program, in seconds. */
#define INITDB_TIMEOUT_S 120
#define START_TIMEOUT_S 60
#define STOP_TIMEOUT_S 20
#define TOOL_GRACE_S 10

/* A log file larger than this is moved aside at start. */
#define LOG_ROTATE_SIZE (8 * 1024 * 1024)

struct _VezaEmbeddedPg
{
  GObject parent_instance;

  char     *cluster_dir;
  char     *data_dir;
  char     *run_dir;       /* the socket directory in use */
  char     *tmp_run_dir;   /* set when run/ is too long for a socket path */
  char     *log_path;
  char     *bindir;
  char     *conninfo;

  gboolean  running;
  gboolean  as_system_user;
  uid_t     uid;
  gid_t     gid;
  char     *home;
};

G_DEFINE_FINAL_TYPE (VezaEmbeddedPg, veza_embedded_pg, G_TYPE_OBJECT)

/* ---- helpers ----------------------------------------------------------- */

static gboolean
is_pg_bindir (const char *dir)
{
  static const char * const programs[] = { "initdb", "pg_ctl", "postgres" };

  for (gsize i = 0; i < G_N_ELEMENTS (programs); i++)
    {
      g_autofree char *path = g_build_filename (dir, programs[i], NULL);

      if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) ||
          g_file_test (path, G_FILE_TEST_IS_DIR))
        return FALSE;
    }
  return TRUE;
}

/* VEZA_PG_BINDIR, else the highest /usr/lib/postgresql/<major>/bin, else
 * the directory of pg_ctl found in PATH. */
static char *
find_bindir (GError **error)
{
  const char *env = g_getenv ("VEZA_PG_BINDIR");
  g_autoptr (GDir) dir = NULL;
  g_autofree char *best = NULL;
  g_autofree char *in_path = NULL;
  guint64 best_version = 0;
  const char *name;

  if (env != NULL && env[0] != '\0')
    {
      if (is_pg_bindir (env))
        return g_strdup (env);
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_NOT_FOUND,
                   "the PostgreSQL server programs (initdb, pg_ctl, postgres) are not in "
                   "%s (VEZA_PG_BINDIR); install the 'postgresql' package or fix "
                   "VEZA_PG_BINDIR", env);
      return NULL;
    }

  dir = g_dir_open ("/usr/lib/postgresql", 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *bin = g_build_filename ("/usr/lib/postgresql", name, "bin", NULL);
      char *end = NULL;
      guint64 version = g_ascii_strtoull (name, &end, 10);

      if (end == name || (*end != '\0' && *end != '.'))
        continue;
      if (version > best_version && is_pg_bindir (bin))
        {
          best_version = version;
          g_free (best);
          best = g_steal_pointer (&bin);
        }
    }
  if (best != NULL)
    return g_steal_pointer (&best);

  in_path = g_find_program_in_path ("pg_ctl");
  if (in_path != NULL)
    {
      g_autofree char *real = realpath (in_path, NULL);
      g_autofree char *bin = g_path_get_dirname (real != NULL ? real : in_path);

      if (is_pg_bindir (bin))
        return g_steal_pointer (&bin);
    }

  g_set_error_literal (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_NOT_FOUND,
                       "the PostgreSQL server programs (initdb, pg_ctl, postgres) were not "
                       "found; install the 'postgresql' package (or set VEZA_PG_BINDIR, or "
                       "configure database-url)");
  return NULL;
}

/* A libpq connection-string value, quoted. */
static void
append_conninfo_value (GString    *out,
                       const char *value)
{
  g_string_append_c (out, '\'');
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\'' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\'');
}

/* A postgresql.conf string value, quoted. */
static char *
conf_quote (const char *value)
{
  GString *out = g_string_new ("'");

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\'')
        g_string_append_c (out, '\'');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\'');
  return g_string_free (out, FALSE);
}

static int
remove_entry (const char        *path,
              const struct stat *sb,
              int                flag,
              struct FTW        *ftw)
{
  return remove (path) == 0 ? 0 : -1;
}

static void
remove_tree (const char *path)
{
  if (nftw (path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
    g_message ("could not remove %s: %s", path, g_strerror (errno));
}

static gboolean
give_to_system_user (VezaEmbeddedPg  *self,
                     const char      *path,
                     GError         **error)
{
  if (!self->as_system_user)
    return TRUE;
  if (lchown (path, self->uid, self->gid) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_UNREACHABLE,
                   "cannot give %s to the '" SYSTEM_USER "' user: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static void
child_setup (gpointer user_data)
{
  VezaEmbeddedPg *self = user_data;

  /* Only async-signal-safe calls here: this runs between fork and exec. */
  if (self->as_system_user &&
      (setgroups (0, NULL) != 0 || setgid (self->gid) != 0 || setuid (self->uid) != 0))
    _exit (126);
}

/* Whether the user the cluster runs as can use @path. Checked in a child
 * that switches to that user, so permissions, ACLs and every parent
 * directory count exactly as they will for the server. */
static gboolean
path_usable_by_system_user (VezaEmbeddedPg *self,
                            const char     *path)
{
  pid_t pid;
  int status = 0;

  pid = fork ();
  if (pid < 0)
    return FALSE;
  if (pid == 0)
    {
      if (setgroups (0, NULL) != 0 || setgid (self->gid) != 0 || setuid (self->uid) != 0)
        _exit (2);
      _exit (access (path, R_OK | W_OK | X_OK) == 0 ? 0 : 1);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return FALSE;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static char **
child_environment (VezaEmbeddedPg *self)
{
  static const char * const unset[] = {
    "PGDATA", "PGHOST", "PGHOSTADDR", "PGPORT", "PGOPTIONS", "PGUSER",
    "PGDATABASE", "PGSERVICE", "PGSERVICEFILE", "PGPASSWORD", "PGPASSFILE",
  };
  char **envp = g_get_environ ();

  for (gsize i = 0; i < G_N_ELEMENTS (unset); i++)
    envp = g_environ_unsetenv (envp, unset[i]);
  envp = g_environ_setenv (envp, "LC_ALL", "C", TRUE);
  if (self->home != NULL)
    envp = g_environ_setenv (envp, "HOME", self->home, TRUE);
  return envp;
}

/* Runs one of the PostgreSQL programs with its output appended to the log
 * file, and waits for it at most @timeout_s seconds. Returns FALSE only when
 * it could not be run or did not finish; *exit_code is its exit code. */
static gboolean
run_program (VezaEmbeddedPg      *self,
             const char * const  *argv,
             guint                timeout_s,
             int                 *exit_code,
             GError             **error)
{
  g_auto (GStrv) envp = child_environment (self);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *cmdline = NULL;
  g_autofree char *header = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%F %T");
  gint64 deadline;
  GPid pid;
  int status = 0;
  int fd;

  fd = g_open (self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "cannot open the log file %s: %s", self->log_path, g_strerror (saved));
      return FALSE;
    }
  if (!give_to_system_user (self, self->log_path, error))
    {
      close (fd);
      return FALSE;
    }

  cmdline = g_strjoinv (" ", (char **) argv);
  header = g_strdup_printf ("==== %s: %s\n", stamp, cmdline);
  if (write (fd, header, strlen (header)) < 0)
    g_debug ("could not write to %s: %s", self->log_path, g_strerror (errno));

  if (!g_spawn_async_with_pipes_and_fds (self->cluster_dir, argv, (const char * const *) envp,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                         child_setup, self, -1, fd, fd, NULL, NULL, 0,
                                         &pid, NULL, NULL, NULL, &local_error))
    {
      close (fd);
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "cannot run %s: %s", argv[0], local_error->message);
      return FALSE;
    }
  close (fd);

  deadline = g_get_monotonic_time () + (gint64) timeout_s * G_TIME_SPAN_SECOND;
  for (;;)
    {
      pid_t r = waitpid (pid, &status, WNOHANG);

      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        {
          int saved = errno;

          g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                       "cannot wait for %s: %s", argv[0], g_strerror (saved));
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
            ;
          g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_TIMEOUT,
                       "%s did not finish within %u s; see %s",
                       argv[0], timeout_s, self->log_path);
          return FALSE;
        }
      g_usleep (20 * 1000);
    }

  if (WIFEXITED (status))
    *exit_code = WEXITSTATUS (status);
  else
    *exit_code = 128 + (WIFSIGNALED (status) ? WTERMSIG (status) : 0);
  if (*exit_code == 126 && self->as_system_user)
    g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                 "cannot switch to the '" SYSTEM_USER "' user to run %s", argv[0]);
  return *exit_code != 126 || !self->as_system_user;
}

static char *
program_path (VezaEmbeddedPg *self,
              const char     *name)
{
  return g_build_filename (self->bindir, name, NULL);
}

/* ---- steps of start ---------------------------------------------------- */

static gboolean
prepare_user (VezaEmbeddedPg  *self,
              GError         **error)
{
  static gsize logged = 0;
  struct passwd pw, *result = NULL;
  char buf[4096];

  self->as_system_user = FALSE;
  if (geteuid () != 0)
    return TRUE;

  if (getpwnam_r (SYSTEM_USER, &pw, buf, sizeof buf, &result) != 0 || result == NULL)
    {
      g_set_error_literal (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_NOT_FOUND,
                           "running as root, the embedded PostgreSQL needs the unprivileged "
                           "'" SYSTEM_USER "' system user, which does not exist; install the "
                           "'postgresql' package (or configure database-url)");
      return FALSE;
    }
  self->as_system_user = TRUE;
  self->uid = pw.pw_uid;
  self->gid = pw.pw_gid;
  g_free (self->home);
  self->home = g_strdup (pw.pw_dir);

  if (g_once_init_enter (&logged))
    {
      g_message ("running as root: the embedded PostgreSQL cluster runs as the '"
                 SYSTEM_USER "' system user");
      g_once_init_leave (&logged, 1);
    }
  return TRUE;
}

static gboolean
prepare_dirs (VezaEmbeddedPg  *self,
              GError         **error)
{
  g_autofree char *parent = g_path_get_dirname (self->cluster_dir);
  g_autofree char *default_run = g_build_filename (self->cluster_dir, "run", NULL);
  struct stat st;

  if (g_mkdir_with_parents (parent, 0755) != 0 ||
      (g_mkdir (self->cluster_dir, 0700) != 0 && errno != EEXIST))
    {
      int saved = errno;

      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_UNREACHABLE,
                   "cannot create the data directory %s: %s",
                   self->cluster_dir, g_strerror (saved));
      return FALSE;
    }
  if (!give_to_system_user (self, self->cluster_dir, error))
    return FALSE;
  if (g_chmod (self->cluster_dir, 0700) != 0)
    g_debug ("could not chmod %s: %s", self->cluster_dir, g_strerror (errno));

  if (self->as_system_user && !path_usable_by_system_user (self, self->cluster_dir))
    {
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_UNREACHABLE,
                   "the data directory %s is not reachable by the '" SYSTEM_USER "' user; "
                   "make every parent directory searchable by it (e.g. chmod o+x) or "
                   "choose another data directory", self->cluster_dir);
      return FALSE;
    }
  if (!self->as_system_user && g_access (self->cluster_dir, R_OK | W_OK | X_OK) != 0)
    {
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_UNREACHABLE,
                   "the data directory %s is not writable", self->cluster_dir);
      return FALSE;
    }

  /* The log: moved aside when large, owned by the server's user. */
  if (g_stat (self->log_path, &st) == 0 && st.st_size > LOG_ROTATE_SIZE)
    {
      g_autofree char *old = g_strconcat (self->log_path, ".old", NULL);

      if (g_rename (self->log_path, old) != 0)
        g_debug ("could not rotate %s: %s", self->log_path, g_strerror (errno));
    }

  /* The socket directory: run/, unless its socket path would be too long. */
  g_clear_pointer (&self->run_dir, g_free);
  if (strlen (default_run) + sizeof "/.s.PGSQL.65535" <= sizeof ((struct sockaddr_un *) 0)->sun_path)
    {
      if (g_mkdir (default_run, 0700) != 0 && errno != EEXIST)
        {
          int saved = errno;

          g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                       "cannot create %s: %s", default_run, g_strerror (saved));
          return FALSE;
        }
      self->run_dir = g_steal_pointer (&default_run);
    }
  else
    {
      g_autoptr (GError) local_error = NULL;

      if (self->tmp_run_dir == NULL)
        self->tmp_run_dir = g_dir_make_tmp ("veza-pg-XXXXXX", &local_error);
      if (self->tmp_run_dir == NULL)
        {
          g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                       "cannot create a socket directory: %s", local_error->message);
          return FALSE;
        }
      self->run_dir = g_strdup (self->tmp_run_dir);
    }
  if (!give_to_system_user (self, self->run_dir, error))
    return FALSE;
  if (g_chmod (self->run_dir, 0700) != 0)
    g_debug ("could not chmod %s: %s", self->run_dir, g_strerror (errno));

  return TRUE;
}

static gboolean
init_cluster (VezaEmbeddedPg  *self,
              GError         **error)
{
  g_autofree char *version_file = g_build_filename (self->data_dir, "PG_VERSION", NULL);
  g_autofree char *new_dir = g_strconcat (self->data_dir, ".new", NULL);
  g_autofree char *initdb = program_path (self, "initdb");
  g_autofree char *conf = g_build_filename (new_dir, "postgresql.conf", NULL);
  static const char include_line[] =
    "\n# Settings written by vezad at every start.\ninclude_if_exists = 'veza.conf'\n";
  const char *argv[] = {
    initdb, "-D", new_dir, "-U", ROLE_NAME, "-E", "UTF8", "--no-locale",
    "--auth-local=trust", "--auth-host=reject", NULL
  };
  int code = 0;
  FILE *f;

  if (g_file_test (version_file, G_FILE_TEST_EXISTS))
    return TRUE;

  if (g_file_test (self->data_dir, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "%s exists but is not a PostgreSQL cluster; move it away",
                   self->data_dir);
      return FALSE;
    }

  /* Left by an initdb that was interrupted. */
  remove_tree (new_dir);

  g_message ("creating the PostgreSQL cluster in %s", self->data_dir);
  if (!run_program (self, argv, INITDB_TIMEOUT_S, &code, error))
    return FALSE;
  if (code != 0)
    {
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "initdb failed (exit code %d); see %s", code, self->log_path);
      return FALSE;
    }

  f = g_fopen (conf, "a");
  if (f == NULL || fputs (include_line, f) < 0)
    {
      int saved = errno;

      if (f != NULL)
        fclose (f);
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "cannot write %s: %s", conf, g_strerror (saved));
      return FALSE;
    }
  fclose (f);

  if (g_rename (new_dir, self->data_dir) != 0)
    {
      int saved = errno;

      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "cannot rename %s: %s", new_dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_settings (VezaEmbeddedPg  *self,
                GError         **error)
{
  g_autofree char *path = g_build_filename (self->data_dir, "veza.conf", NULL);
  g_autofree char *socket_dir = conf_quote (self->run_dir);
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;

  contents = g_strdup_printf ("# Written by vezad at every start; changes are lost.\n"
                              "listen_addresses = ''\n"
                              "port = %d\n"
                              "unix_socket_directories = %s\n"
                              "unix_socket_permissions = 0700\n",
                              VEZA_EMBEDDED_PG_PORT, socket_dir);
  if (!g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &local_error))
    {
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "cannot write the server settings: %s", local_error->message);
      return FALSE;
    }
  return give_to_system_user (self, path, error);
}

/* Whether @pid is a PostgreSQL server whose working directory (the server
 * changes into its data directory) is our data directory. */
static gboolean
is_our_server (VezaEmbeddedPg *self,
               pid_t           pid)
{
  g_autofree char *exe_link = g_strdup_printf ("/proc/%d/exe", (int) pid);
  g_autofree char *cwd_link = g_strdup_printf ("/proc/%d/cwd", (int) pid);
  g_autofree char *exe = g_file_read_link (exe_link, NULL);
  g_autofree char *cwd = g_file_read_link (cwd_link, NULL);
  g_autofree char *data = realpath (self->data_dir, NULL);
  g_autofree char *base = NULL;

  if (kill (pid, 0) != 0 && errno != EPERM)
    return FALSE;
  if (exe == NULL || cwd == NULL || data == NULL)
    return FALSE;
  base = g_path_get_basename (exe);
  return g_str_has_prefix (base, "postgres") && g_strcmp0 (cwd, data) == 0;
}

static gboolean
pg_ctl_stop (VezaEmbeddedPg  *self,
             const char      *mode,
             GError         **error)
{
  g_autofree char *pg_ctl = program_path (self, "pg_ctl");
  g_autofree char *timeout = g_strdup_printf ("%d", STOP_TIMEOUT_S);
  const char *argv[] = {
    pg_ctl, "stop", "-D", self->data_dir, "-m", mode, "-w", "-t", timeout, NULL
  };
  int code = 0;

  if (!run_program (self, argv, STOP_TIMEOUT_S + TOOL_GRACE_S, &code, error))
    return FALSE;
  if (code != 0)
    {
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "pg_ctl stop failed (exit code %d); see %s", code, self->log_path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
stop_server (VezaEmbeddedPg  *self,
             GError         **error)
{
  g_autoptr (GError) local_error = NULL;

  if (pg_ctl_stop (self, "fast", &local_error))
    return TRUE;
  g_message ("stopping PostgreSQL in %s: %s; trying an immediate stop",
             self->data_dir, local_error->message);
  return pg_ctl_stop (self, "immediate", error);
}

static gboolean
handle_leftover (VezaEmbeddedPg  *self,
                 GError         **error)
{
  g_autofree char *pid_path = g_build_filename (self->data_dir, "postmaster.pid", NULL);
  g_autofree char *contents = NULL;
  gint64 pid;

  if (!g_file_get_contents (pid_path, &contents, NULL, NULL))
    return TRUE;

  pid = g_ascii_strtoll (contents, NULL, 10);
  if (pid > 0 && pid <= G_MAXINT && is_our_server (self, (pid_t) pid))
    {
      g_message ("a PostgreSQL server (pid %d) was left running in %s; restarting it",
                 (int) pid, self->data_dir);
      return stop_server (self, error);
    }

  g_message ("removing a stale postmaster.pid from %s", self->data_dir);
  if (g_unlink (pid_path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "cannot remove %s: %s", pid_path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_server (VezaEmbeddedPg  *self,
              GError         **error)
{
  g_autofree char *pg_ctl = program_path (self, "pg_ctl");
  g_autofree char *timeout = g_strdup_printf ("%d", START_TIMEOUT_S);
  const char *argv[] = {
    pg_ctl, "start", "-D", self->data_dir, "-l", self->log_path, "-w", "-t", timeout, NULL
  };
  int code = 0;

  if (!run_program (self, argv, START_TIMEOUT_S + TOOL_GRACE_S, &code, error))
    return FALSE;
  if (code != 0)
    {
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "PostgreSQL did not start (pg_ctl exit code %d); see %s",
                   code, self->log_path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
create_database (VezaEmbeddedPg  *self,
                 GError         **error)
{
  g_autofree char *port = g_strdup_printf ("%d", VEZA_EMBEDDED_PG_PORT);
  const char *keywords[] = { "host", "port", "dbname", "user", "connect_timeout", NULL };
  const char *values[] = { self->run_dir, port, "postgres", ROLE_NAME, "10", NULL };
  const char *params[] = { DB_NAME };
  PGconn *conn;
  PGresult *res;
  gboolean ok = FALSE;

  conn = PQconnectdbParams (keywords, values, 0);
  if (conn == NULL || PQstatus (conn) != CONNECTION_OK)
    {
      g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                   "cannot connect to the embedded PostgreSQL: %s; see %s",
                   conn != NULL ? PQerrorMessage (conn) : "out of memory", self->log_path);
      PQfinish (conn);
      return FALSE;
    }

  res = PQexecParams (conn, "SELECT 1 FROM pg_database WHERE datname = $1",
                      1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1)
    ok = TRUE;
  else if (PQresultStatus (res) == PGRES_TUPLES_OK)
    {
      const char *state;

      PQclear (res);
      res = PQexec (conn, "CREATE DATABASE " DB_NAME);
      state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
      /* 42P04: created meanwhile by another process */
      ok = (PQresultStatus (res) == PGRES_COMMAND_OK || g_strcmp0 (state, "42P04") == 0);
    }
  if (!ok)
    g_set_error (error, VEZA_EMBEDDED_PG_ERROR, VEZA_EMBEDDED_PG_ERROR_FAILED,
                 "cannot create the database '" DB_NAME "': %s",
                 g_strstrip (PQresultErrorMessage (res)));
  PQclear (res);
  PQfinish (conn);
  return ok;
}

/* ---- public ------------------------------------------------------------ */

gboolean
veza_embedded_pg_start (VezaEmbeddedPg  *self,
                        GError         **error)
{
  g_autoptr (GString) conninfo = NULL;

  g_return_val_if_fail (VEZA_IS_EMBEDDED_PG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->running)
    return TRUE;

  if (self->bindir == NULL && (self->bindir = find_bindir (error)) == NULL)
    return FALSE;
  if (!prepare_user (self, error) ||
      !prepare_dirs (self, error) ||
      !init_cluster (self, error) ||
      !handle_leftover (self, error) ||
      !write_settings (self, error) ||
      !start_server (self, error))
    return FALSE;

  self->running = TRUE;

  if (!create_database (self, error))
    {
      veza_embedded_pg_stop (self);
      return FALSE;
    }

  conninfo = g_string_new ("host=");
  append_conninfo_value (conninfo, self->run_dir);
  g_string_append_printf (conninfo, " port=%d dbname=" DB_NAME " user=" ROLE_NAME,
                          VEZA_EMBEDDED_PG_PORT);
  /* Unchanged across restarts, so that a pointer callers hold stays valid. */
  if (g_strcmp0 (self->conninfo, conninfo->str) != 0)
    {
      g_free (self->conninfo);
      self->conninfo = g_string_free (g_steal_pointer (&conninfo), FALSE);
    }

  g_message ("PostgreSQL is running in %s", self->data_dir);
  return TRUE;
}

const char *
veza_embedded_pg_get_conninfo (VezaEmbeddedPg *self)
{
  g_return_val_if_fail (VEZA_IS_EMBEDDED_PG (self), NULL);

  return self->conninfo;
}

const char *
veza_embedded_pg_get_log_path (VezaEmbeddedPg *self)
{
  g_return_val_if_fail (VEZA_IS_EMBEDDED_PG (self), NULL);

  return self->log_path;
}

void
veza_embedded_pg_stop (VezaEmbeddedPg *self)
{
  g_autofree char *pid_path = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (VEZA_IS_EMBEDDED_PG (self));

  if (!self->running)
    return;
  self->running = FALSE;

  pid_path = g_build_filename (self->data_dir, "postmaster.pid", NULL);
  if (g_file_test (pid_path, G_FILE_TEST_EXISTS))
    {
      if (stop_server (self, &error))
        g_message ("PostgreSQL stopped");
      else
        g_warning ("could not stop PostgreSQL in %s: %s", self->data_dir, error->message);
    }

  if (self->tmp_run_dir != NULL)
    {
      remove_tree (self->tmp_run_dir);
      g_clear_pointer (&self->tmp_run_dir, g_free);
    }
}

gboolean
veza_embedded_pg_restart (VezaEmbeddedPg  *self,
                          GError         **error)
{
  g_return_val_if_fail (VEZA_IS_EMBEDDED_PG (self), FALSE);

  veza_embedded_pg_stop (self);
  return veza_embedded_pg_start (self, error);
}

static void
veza_embedded_pg_dispose (GObject *object)
{
  VezaEmbeddedPg *self = VEZA_EMBEDDED_PG (object);

  veza_embedded_pg_stop (self);

  G_OBJECT_CLASS (veza_embedded_pg_parent_class)->dispose (object);
}

static void
veza_embedded_pg_finalize (GObject *object)
{
  VezaEmbeddedPg *self = VEZA_EMBEDDED_PG (object);

  g_free (self->cluster_dir);
  g_free (self->data_dir);
  g_free (self->run_dir);
  g_free (self->tmp_run_dir);
  g_free (self->log_path);
  g_free (self->bindir);
  g_free (self->conninfo);
  g_free (self->home);

  G_OBJECT_CLASS (veza_embedded_pg_parent_class)->finalize (object);
}

static void
veza_embedded_pg_class_init (VezaEmbeddedPgClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = veza_embedded_pg_dispose;
  object_class->finalize = veza_embedded_pg_finalize;
}

static void
veza_embedded_pg_init (VezaEmbeddedPg *self)
{
}

VezaEmbeddedPg *
veza_embedded_pg_new (const char *cluster_dir)
{
  VezaEmbeddedPg *self;

  g_return_val_if_fail (cluster_dir != NULL && cluster_dir[0] != '\0', NULL);

  self = g_object_new (VEZA_TYPE_EMBEDDED_PG, NULL);
  self->cluster_dir = g_canonicalize_filename (cluster_dir, NULL);
  self->data_dir = g_build_filename (self->cluster_dir, "data", NULL);
  self->log_path = g_build_filename (self->cluster_dir, "postgres.log", NULL);
  return self;
}
