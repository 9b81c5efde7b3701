/* main.c — vezad, the Veza Live daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-server-private.h"
#include "veza-config.h"
#include "veza-log.h"
#include "veza-secret.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <locale.h>
#include <gst/gst.h>

typedef struct {
  GMainLoop  *loop;
  VezaServer *server;
  gboolean    stopping;
  int         exit_code;
} Daemon;

static void
on_shut_down (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Daemon *daemon = user_data;

  veza_server_shutdown_finish (VEZA_SERVER (source), result, NULL);
  g_message (_("stopped"));
  g_main_loop_quit (daemon->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  Daemon *daemon = user_data;

  if (daemon->stopping)
    {
      g_message (_("second signal: exiting now"));
      g_main_loop_quit (daemon->loop);
      return G_SOURCE_CONTINUE;
    }
  daemon->stopping = TRUE;
  g_message (_("stopping: closing broadcasts"));
  veza_server_shutdown_async (daemon->server, on_shut_down, daemon);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaConfig) config = NULL;
  g_autofree char *config_file = NULL;
  g_autofree char *http_address = NULL, *rtmp_address = NULL, *data_dir = NULL;
  g_autofree char *database_url = NULL, *plugin_dir = NULL, *public_url = NULL;
  g_autofree char *rtmp_public_url = NULL;
  int http_port = -1, rtmp_port = -1;
  gboolean version = FALSE;
  Daemon daemon = { 0 };
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
      N_("Read the configuration from FILE"), N_("FILE") },
    { "http-address", 0, 0, G_OPTION_ARG_STRING, &http_address,
      N_("Listen for HTTP on ADDRESS (default 127.0.0.1)"), N_("ADDRESS") },
    { "http-port", 0, 0, G_OPTION_ARG_INT, &http_port,
      N_("Listen for HTTP on PORT (default 8080; 0 = any free port)"), N_("PORT") },
    { "rtmp-address", 0, 0, G_OPTION_ARG_STRING, &rtmp_address,
      N_("Listen for RTMP on ADDRESS (default 127.0.0.1)"), N_("ADDRESS") },
    { "rtmp-port", 0, 0, G_OPTION_ARG_INT, &rtmp_port,
      N_("Listen for RTMP on PORT (default 1935; 0 = any free port)"), N_("PORT") },
    { "public-url", 0, 0, G_OPTION_ARG_STRING, &public_url,
      N_("Base URL of links handed to browsers"), N_("URL") },
    { "rtmp-public-url", 0, 0, G_OPTION_ARG_STRING, &rtmp_public_url,
      N_("RTMP URL handed to streamers"), N_("URL") },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Keep media, the embedded database and state in DIR"), N_("DIR") },
    { "database-url", 0, 0, G_OPTION_ARG_STRING, &database_url,
      N_("Use this PostgreSQL server instead of the embedded one"), N_("URL") },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &plugin_dir,
      N_("Load plugins from DIR"), N_("DIR") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  veza_log_init ();

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("Veza Live: a self-hosted live-streaming server."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("vezad %s (plugin ABI %d.%d)\n", VEZA_VERSION,
               VEZA_PLUGIN_ABI_MAJOR, VEZA_PLUGIN_ABI_MINOR);
      return 0;
    }

  config = veza_config_new ();
  if (config_file != NULL && !veza_config_load_file (config, config_file, &error))
    {
      g_printerr (_("Cannot read configuration %s: %s\n"), config_file, error->message);
      return 2;
    }
#define OVERRIDE(field, value) \
  if (value != NULL) { g_free (config->field); config->field = g_steal_pointer (&value); }
  OVERRIDE (http_address, http_address);
  OVERRIDE (rtmp_address, rtmp_address);
  OVERRIDE (data_dir, data_dir);
  OVERRIDE (database_url, database_url);
  OVERRIDE (plugin_dir, plugin_dir);
  OVERRIDE (public_url, public_url);
  OVERRIDE (rtmp_public_url, rtmp_public_url);
#undef OVERRIDE
  if (http_port > 65535 || rtmp_port > 65535 || http_port < -1 || rtmp_port < -1)
    {
      g_printerr (_("Ports must be between 0 and 65535\n"));
      return 2;
    }
  if (http_port >= 0)
    config->http_port = (guint16) http_port;
  if (rtmp_port >= 0)
    config->rtmp_port = (guint16) rtmp_port;
  if (!veza_config_validate (config, &error))
    {
      g_printerr (_("Invalid configuration: %s\n"), error->message);
      return 2;
    }
  if (!veza_secret_init ())
    {
      g_printerr (_("Cannot initialise the random number generator\n"));
      return 1;
    }

  daemon.loop = g_main_loop_new (NULL, FALSE);
  daemon.server = veza_server_new (g_steal_pointer (&config));
  g_unix_signal_add (SIGINT, on_signal, &daemon);
  g_unix_signal_add (SIGTERM, on_signal, &daemon);

  if (!veza_server_start (daemon.server, &error))
    {
      g_printerr (_("vezad could not start: %s\n"), error->message);
      g_clear_object (&daemon.server);
      g_main_loop_unref (daemon.loop);
      return 1;
    }
  g_message (_("ready: open %s/ in a browser; streamers publish to %s/<stream key>"),
             veza_server_get_public_url (daemon.server),
             veza_server_get_rtmp_public_url (daemon.server));

  g_main_loop_run (daemon.loop);

  g_clear_object (&daemon.server);
  g_main_loop_unref (daemon.loop);
  return daemon.exit_code;
}
