//! The REST API: routes, and the OpenAPI document generated from them.

pub mod admin;
pub mod analysis;
pub mod posts;
pub mod share;

use crate::state::Shared;
use axum::Json;
use axum::Router;
use axum::routing::{delete, get, post, put};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Answers every route may give, documented on every operation (so the
/// document says what the server does: schemathesis, `.ci/api-fuzz`): 400
/// (a bad parameter), 401 (no or a wrong token), 403 (a role or clearance
/// short of it); 404 on the routes that name an object in their path. And
/// the NDJSON body of `POST /api/ingest` is also taken as `text/plain`.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Response, ResponseBuilder};
        let error = || -> RefOr<Response> {
            RefOr::T(
                ResponseBuilder::new()
                    .description("An error: `{\"error\", \"message\"}`")
                    .content(
                        "application/json",
                        utoipa::openapi::ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                "ErrorBody",
                            ))))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in api.paths.paths.iter_mut() {
            let named = path.contains('{');
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let r = &mut op.responses.responses;
                for code in ["400", "401", "403"] {
                    r.entry(code.into()).or_insert_with(error);
                }
                if named {
                    r.entry("404".into()).or_insert_with(error);
                }
                if path == "/api/ingest"
                    && let Some(body) = &mut op.request_body
                    && let Some(nd) = body.content.get("application/x-ndjson").cloned()
                {
                    body.content.entry("text/plain".into()).or_insert(nd);
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Pharos API", description = "Posts, narratives, coordination networks, actors, alerts, incidents, claims and STIX sharing. Every route needs `Authorization: Bearer TOKEN` (`pharos token create`); partners see what TLP clears them for. See docs/server.md."),
    paths(
        admin::status, posts::list, posts::get, posts::stats, posts::ingest,
        analysis::narratives, analysis::narrative, analysis::networks, analysis::network,
        analysis::network_posts, analysis::actors, analysis::actor, analysis::alerts, analysis::alert_stream,
        share::stix_export, share::stix_import, share::incidents, share::incident, share::report,
        share::claims, share::matches, share::response_pack,
        admin::tokens, admin::create_token, admin::revoke_token, admin::audit, admin::set_marking,
        openapi,
    ),
    modifiers(&TokenAuth, &CommonAnswers),
    components(schemas(crate::error::ErrorBody)),
    tags((name = "posts"), (name = "analysis"), (name = "alerts"), (name = "incidents"), (name = "claims"), (name = "share"), (name = "admin"))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "admin",
    responses((status = 200, description = "OpenAPI 3.1 document")), security(("token" = [])))]
pub async fn openapi(
    axum::extract::State(st): axum::extract::State<Shared>,
    axum::extract::Extension(who): axum::extract::Extension<crate::auth::Principal>,
) -> crate::error::ApiResult<Json<utoipa::openapi::OpenApi>> {
    st.check_collection(&who)?;
    Ok(Json(ApiDoc::openapi()))
}

/// Every API route (all behind the access middleware).
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/status", get(admin::status))
        .route("/api/stats", get(posts::stats))
        .route("/api/posts", get(posts::list))
        .route("/api/posts/{platform}/{*id}", get(posts::get))
        .route("/api/ingest", post(posts::ingest))
        .route("/api/narratives", get(analysis::narratives))
        .route("/api/narratives/{id}", get(analysis::narrative))
        .route("/api/narratives/{id}/matches", get(share::matches))
        .route("/api/narratives/{id}/response", get(share::response_pack))
        .route("/api/networks", get(analysis::networks))
        .route("/api/networks/{id}", get(analysis::network))
        .route("/api/networks/{id}/posts", get(analysis::network_posts))
        .route("/api/actors", get(analysis::actors))
        .route("/api/actors/{platform}/{*id}", get(analysis::actor))
        .route("/api/alerts", get(analysis::alerts))
        .route("/api/alerts/stream", get(analysis::alert_stream))
        .route("/api/incidents", get(share::incidents))
        .route("/api/incidents/{id}", get(share::incident))
        .route("/api/reports/{incident}", get(share::report))
        .route("/api/claims", get(share::claims))
        .route("/api/stix/export", get(share::stix_export))
        .route("/api/stix/import", post(share::stix_import))
        .route("/api/tokens", get(admin::tokens).post(admin::create_token))
        .route("/api/tokens/{id}", delete(admin::revoke_token))
        .route("/api/audit", get(admin::audit))
        // `{*id}`: post ids and URLs hold `/` (`telegram:77/4`).
        .route("/api/markings/{kind}/{*id}", put(admin::set_marking))
}
