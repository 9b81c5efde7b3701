/* veza-config.c — vezad configuration (GKeyFile + command line)
 *
 * Every key has a built-in default, so vezad runs with no file at all. The
 * command line (main.c) overrides what the file says.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (veza-config-error-quark, veza_config_error)

VezaConfig *
veza_config_new (void)
{
  VezaConfig *config = g_new0 (VezaConfig, 1);

  config->http_address = g_strdup ("127.0.0.1");
  config->http_port = 8080;
  config->rtmp_address = g_strdup ("127.0.0.1");
  config->rtmp_port = 1935;
  /* A user's own data folder; as root (a system service, a container) the
   * system's place for service state, which the unprivileged PostgreSQL
   * user can reach, unlike /root. */
  if (geteuid () == 0)
    config->data_dir = g_strdup ("/var/lib/veza");
  else
    config->data_dir = g_build_filename (g_get_user_data_dir (), "veza", NULL);
  config->segment_duration = 2;
  config->live_window = 6;
  config->reconnect_grace = 30;
  config->session_ttl = 30 * 24 * 3600;
  config->db_pool_size = 4;
  config->plugin_dir = g_strdup (VEZA_PLUGINDIR);
  /* VEZA_WEB_DIR points an uninstalled build at the source tree's pages. */
  if (g_getenv ("VEZA_WEB_DIR") != NULL && *g_getenv ("VEZA_WEB_DIR") != '\0')
    config->web_dir = g_strdup (g_getenv ("VEZA_WEB_DIR"));
  else
    config->web_dir = g_build_filename (VEZA_DATADIR, "web", NULL);
  config->plugins_disabled = g_new0 (char *, 1);
  config->keyfile = g_key_file_new ();

  return config;
}

void
veza_config_free (VezaConfig *config)
{
  if (config == NULL)
    return;

  g_free (config->http_address);
  g_free (config->rtmp_address);
  g_free (config->public_url);
  g_free (config->rtmp_public_url);
  g_free (config->data_dir);
  g_free (config->database_url);
  g_free (config->internal_token);
  g_free (config->web_dir);
  g_free (config->plugin_dir);
  g_strfreev (config->plugins_disabled);
  g_key_file_unref (config->keyfile);
  g_free (config);
}

static gboolean
read_string (GKeyFile    *kf,
             const char  *group,
             const char  *key,
             char       **out,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *value = g_key_file_get_string (kf, group, key, &local_error);

  if (value == NULL)
    {
      if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
          g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_strstrip (value);
  g_free (*out);
  *out = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
read_uint (GKeyFile    *kf,
           const char  *group,
           const char  *key,
           guint        min,
           guint        max,
           guint       *out,
           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  guint64 value;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;

  value = g_key_file_get_uint64 (kf, group, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, VEZA_CONFIG_ERROR, VEZA_CONFIG_ERROR_INVALID,
                   _("[%s] %s: %s"), group, key, local_error->message);
      return FALSE;
    }
  if (value < min || value > max)
    {
      g_set_error (error, VEZA_CONFIG_ERROR, VEZA_CONFIG_ERROR_INVALID,
                   _("[%s] %s must be between %u and %u"), group, key, min, max);
      return FALSE;
    }

  *out = (guint) value;
  return TRUE;
}

static gboolean
read_port (GKeyFile    *kf,
           const char  *group,
           const char  *key,
           guint16     *out,
           GError     **error)
{
  guint value = *out;

  if (!read_uint (kf, group, key, 0, 65535, &value, error))
    return FALSE;
  *out = (guint16) value;
  return TRUE;
}

/* "~/x" → "$HOME/x" */
static char *
expand_home (const char *path)
{
  if (path != NULL && g_str_has_prefix (path, "~/"))
    return g_build_filename (g_get_home_dir (), path + 2, NULL);
  return g_strdup (path);
}

gboolean
veza_config_load_file (VezaConfig  *config,
                       const char  *path,
                       GError     **error)
{
  GKeyFile *kf = config->keyfile;
  g_autofree char *data_dir = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;

  if (!read_string (kf, "server", "http-address", &config->http_address, error) ||
      !read_port (kf, "server", "http-port", &config->http_port, error) ||
      !read_string (kf, "server", "rtmp-address", &config->rtmp_address, error) ||
      !read_port (kf, "server", "rtmp-port", &config->rtmp_port, error) ||
      !read_string (kf, "server", "public-url", &config->public_url, error) ||
      !read_string (kf, "server", "rtmp-public-url", &config->rtmp_public_url, error) ||
      !read_string (kf, "server", "database-url", &config->database_url, error) ||
      !read_string (kf, "server", "internal-token", &config->internal_token, error) ||
      !read_string (kf, "server", "web-dir", &config->web_dir, error) ||
      !read_uint (kf, "hls", "segment-duration", 1, 60, &config->segment_duration, error) ||
      !read_uint (kf, "hls", "live-window", 3, 1000, &config->live_window, error) ||
      !read_uint (kf, "ingest", "reconnect-grace", 0, 3600, &config->reconnect_grace, error) ||
      !read_uint (kf, "accounts", "session-ttl", 60, 365 * 24 * 3600, &config->session_ttl, error) ||
      !read_uint (kf, "database", "pool-size", 1, 64, &config->db_pool_size, error) ||
      !read_string (kf, "plugins", "dir", &config->plugin_dir, error))
    return FALSE;

  if (config->web_dir != NULL && g_str_has_prefix (config->web_dir, "~/"))
    {
      char *expanded = expand_home (config->web_dir);

      g_free (config->web_dir);
      config->web_dir = expanded;
    }

  if (!read_string (kf, "server", "data-dir", &data_dir, error))
    return FALSE;
  if (data_dir != NULL && *data_dir != '\0')
    {
      g_free (config->data_dir);
      config->data_dir = expand_home (data_dir);
    }

  if (g_key_file_has_key (kf, "plugins", "disabled", NULL))
    {
      g_auto(GStrv) list = g_key_file_get_string_list (kf, "plugins", "disabled", NULL, error);

      if (list == NULL)
        return FALSE;
      for (guint i = 0; list[i] != NULL; i++)
        g_strstrip (list[i]);
      g_strfreev (config->plugins_disabled);
      config->plugins_disabled = g_steal_pointer (&list);
    }

  return TRUE;
}

static gboolean
empty (const char *s)
{
  return s == NULL || *s == '\0';
}

gboolean
veza_config_validate (VezaConfig  *config,
                      GError     **error)
{
  if (empty (config->http_address) || empty (config->rtmp_address))
    {
      g_set_error (error, VEZA_CONFIG_ERROR, VEZA_CONFIG_ERROR_INVALID,
                   _("listening addresses must not be empty"));
      return FALSE;
    }
  if (!g_hostname_is_ip_address (config->http_address) ||
      !g_hostname_is_ip_address (config->rtmp_address))
    {
      g_set_error (error, VEZA_CONFIG_ERROR, VEZA_CONFIG_ERROR_INVALID,
                   _("listening addresses must be IP addresses"));
      return FALSE;
    }
  if (empty (config->data_dir))
    {
      g_set_error (error, VEZA_CONFIG_ERROR, VEZA_CONFIG_ERROR_INVALID,
                   _("data-dir must not be empty"));
      return FALSE;
    }
  if (!g_path_is_absolute (config->data_dir))
    {
      g_autofree char *cwd = g_get_current_dir ();
      g_autofree char *abs = g_build_filename (cwd, config->data_dir, NULL);

      g_free (config->data_dir);
      config->data_dir = g_steal_pointer (&abs);
    }
  if (!empty (config->public_url) &&
      !g_str_has_prefix (config->public_url, "http://") &&
      !g_str_has_prefix (config->public_url, "https://"))
    {
      g_set_error (error, VEZA_CONFIG_ERROR, VEZA_CONFIG_ERROR_INVALID,
                   _("public-url must start with http:// or https://"));
      return FALSE;
    }
  if (!empty (config->rtmp_public_url) &&
      !g_str_has_prefix (config->rtmp_public_url, "rtmp://") &&
      !g_str_has_prefix (config->rtmp_public_url, "rtmps://"))
    {
      g_set_error (error, VEZA_CONFIG_ERROR, VEZA_CONFIG_ERROR_INVALID,
                   _("rtmp-public-url must start with rtmp:// or rtmps://"));
      return FALSE;
    }
  /* A trailing slash would give "//" in every URL built from these. */
  if (!empty (config->public_url) && g_str_has_suffix (config->public_url, "/"))
    config->public_url[strlen (config->public_url) - 1] = '\0';
  if (!empty (config->rtmp_public_url) && g_str_has_suffix (config->rtmp_public_url, "/"))
    config->rtmp_public_url[strlen (config->rtmp_public_url) - 1] = '\0';

  return TRUE;
}

gboolean
veza_config_plugin_disabled (VezaConfig *config,
                             const char *name)
{
  return config->plugins_disabled != NULL &&
         g_strv_contains ((const char * const *) config->plugins_disabled, name);
}
