/* veza-broadcasts.h — live broadcasts: RTMP ingest, pipelines, lifecycle
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-server-private.h"

G_BEGIN_DECLS

VezaBroadcasts *veza_broadcasts_new              (VezaServer      *server);
void            veza_broadcasts_free             (VezaBroadcasts  *self);
/* Listens for RTMP and closes broadcasts a crash left open. */
gboolean        veza_broadcasts_start            (VezaBroadcasts  *self,
                                                  guint16         *out_rtmp_port,
                                                  GError         **error);
void            veza_broadcasts_shutdown_async   (VezaBroadcasts      *self,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);

/* Ends the broadcast of @stream_id (publisher disconnected, playlists
 * closed, row updated, stream-ended emitted). Returns through the callback
 * the ended row's id (g_task_propagate_pointer) or an error; ending a stream
 * that is not live is G_IO_ERROR_NOT_CONNECTED. */
void            veza_broadcasts_end_async        (VezaBroadcasts      *self,
                                                  const char          *stream_id,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean        veza_broadcasts_end_finish       (VezaBroadcasts  *self,
                                                  GAsyncResult    *result,
                                                  GError         **error);
/* Marks a stream live for an external ingest (no local pipeline). The
 * finish function returns the id of the live row: @stream_id itself, or
 * its successor when @stream_id had already ended (lifecycle step 5). */
void            veza_broadcasts_start_external_async (VezaBroadcasts      *self,
                                                      const char          *stream_id,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
char           *veza_broadcasts_start_external_finish (VezaBroadcasts  *self,
                                                       GAsyncResult    *result,
                                                       GError         **error);
/* Starts pulling a stream that has a source_url. The finish function
 * returns the id of the live row: @stream_id itself, or its successor when
 * @stream_id had already ended. */
void            veza_broadcasts_start_pull_async (VezaBroadcasts      *self,
                                                  const char          *stream_id,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
char           *veza_broadcasts_start_pull_finish (VezaBroadcasts  *self,
                                                   GAsyncResult    *result,
                                                   GError         **error);

/* Whether @stream_id has a broadcast here, or an edge pull of it is being
 * started: an nginx-rtmp edge must then refuse another publisher (the end
 * of its publish would end the first one's broadcast). */
gboolean        veza_broadcasts_is_busy          (VezaBroadcasts  *self,
                                                  const char      *stream_id);
/* An nginx-rtmp edge accepted a publish of @stream_id: pull it from
 * @pull_url (nullable: the edge did not say where it is). Nothing happens
 * when the stream is busy. */
void            veza_broadcasts_pull_from_edge   (VezaBroadcasts  *self,
                                                  const char      *stream_id,
                                                  const char      *pull_url);
/* The edge's publisher of @key went away. */
void            veza_broadcasts_edge_unpublished_async (VezaBroadcasts      *self,
                                                        const char          *key,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);

/* Presence: distinct viewers seen in the last 30 s. -1 when this node has
 * no presence for the stream. */
gint            veza_broadcasts_get_viewer_count (VezaBroadcasts  *self,
                                                  const char      *stream_id);
void            veza_broadcasts_viewer_seen      (VezaBroadcasts  *self,
                                                  const char      *stream_id,
                                                  const char      *viewer_id);
void            veza_broadcasts_viewer_gone      (VezaBroadcasts  *self,
                                                  const char      *stream_id,
                                                  const char      *viewer_id);
/* Delete the media folder of a stream (off the main loop). */
void            veza_broadcasts_delete_media     (VezaBroadcasts  *self,
                                                  const char      *stream_id);

G_END_DECLS
