/* veza-server-private.h — the parts of VezaServer the core shares internally
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-plugin.h"
#include "veza-config.h"
#include "veza-http-server.h"

G_BEGIN_DECLS

typedef struct _VezaBroadcasts VezaBroadcasts;

VezaServer     *veza_server_new            (VezaConfig  *config);
gboolean        veza_server_start          (VezaServer  *self,
                                            GError     **error);
void            veza_server_shutdown_async (VezaServer          *self,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean        veza_server_shutdown_finish (VezaServer   *self,
                                             GAsyncResult *result,
                                             GError      **error);

VezaConfig     *veza_server_get_config     (VezaServer *self);
VezaHttpServer *veza_server_get_http       (VezaServer *self);
VezaBroadcasts *veza_server_get_broadcasts (VezaServer *self);
VezaCounters   *veza_server_get_counters_mutable (VezaServer *self);
const char     *veza_server_get_rtmp_public_url (VezaServer *self);
guint16         veza_server_get_http_port  (VezaServer *self);
guint16         veza_server_get_rtmp_port  (VezaServer *self);
/* <data-dir>/media */
const char     *veza_server_get_media_dir  (VezaServer *self);
gpointer        veza_server_get_plugin_loader (VezaServer *self);
/* The embedded PostgreSQL (a VezaEmbeddedPg), or NULL with a database-url */
gpointer        veza_server_get_embedded_pg (VezaServer *self);
/* The libpq connection string in use (embedded or configured) */
const char     *veza_server_get_conninfo   (VezaServer *self);

/* Runs the publish-authorize hook; the auth object answers the ingest. */
void            veza_server_authorize_publish (VezaServer      *self,
                                               VezaPublishAuth *auth);

void            veza_server_emit_stream_event (VezaServer *self,
                                               const char *signal_name,
                                               const char *stream_id,
                                               JsonObject *stream);
void            veza_server_emit_viewer       (VezaServer *self,
                                               gboolean    joined,
                                               const char *stream_id,
                                               const char *viewer_id);
void            veza_server_emit_pipeline_created (VezaServer  *self,
                                                   const char  *stream_id,
                                                   GstPipeline *pipeline,
                                                   GstElement  *video_tee,
                                                   GstElement  *audio_tee);

/* VezaPublishAuth, the core side */
typedef void (*VezaPublishAuthDone) (VezaPublishAuth *auth,
                                     gboolean         allowed,
                                     const char      *stream_id,
                                     const char      *reason,
                                     gpointer         user_data);
VezaPublishAuth *veza_publish_auth_new (const char          *app,
                                        const char          *key,
                                        const char          *remote_address,
                                        VezaPublishAuthDone  done,
                                        gpointer             user_data);
gboolean         veza_publish_auth_is_answered (VezaPublishAuth *auth);

G_END_DECLS
