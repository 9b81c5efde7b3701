/* veza-config.h — vezad configuration (GKeyFile + command line)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VEZA_CONFIG_ERROR (veza_config_error_quark ())
GQuark veza_config_error_quark (void);

typedef enum {
  VEZA_CONFIG_ERROR_INVALID,
} VezaConfigError;

typedef struct {
  char    *http_address;
  guint16  http_port;
  char    *rtmp_address;
  guint16  rtmp_port;
  char    *public_url;       /* NULL: derived from the bound HTTP address */
  char    *rtmp_public_url;  /* NULL: derived from the bound RTMP address */
  char    *data_dir;
  char    *database_url;     /* NULL or "": embedded PostgreSQL */
  char    *internal_token;   /* NULL or "": the internal API refused */
  char    *web_dir;          /* pages and static files; NULL or "": no pages */

  guint    segment_duration; /* seconds */
  guint    live_window;      /* segments */
  guint    reconnect_grace;  /* seconds */

  guint    session_ttl;      /* seconds (token lifetime) */
  guint    db_pool_size;

  char    *plugin_dir;
  char   **plugins_disabled;

  GKeyFile *keyfile;         /* the whole file, for plugin groups */
} VezaConfig;

VezaConfig *veza_config_new          (void);
void        veza_config_free         (VezaConfig  *config);
gboolean    veza_config_load_file    (VezaConfig  *config,
                                      const char  *path,
                                      GError     **error);
gboolean    veza_config_validate     (VezaConfig  *config,
                                      GError     **error);
gboolean    veza_config_plugin_disabled (VezaConfig *config,
                                         const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaConfig, veza_config_free)

G_END_DECLS
