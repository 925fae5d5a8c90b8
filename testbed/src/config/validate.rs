//! Semantic checks on a parsed configuration, each failure naming the offending field path.

use std::collections::HashSet;

use super::{
    AuthMode, ClientAuthMethod, ConfigError, StaticClientConfig, TestbedConfig, UserConfig,
};

fn invalid(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.into(),
        message: message.into(),
    }
}

/// Rejects the second occurrence of a name within one list.
fn ensure_unique<'a>(
    names: impl IntoIterator<Item = &'a str>,
    path_of: impl Fn(usize) -> String,
    what: &str,
) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for (index, name) in names.into_iter().enumerate() {
        if !seen.insert(name) {
            return Err(invalid(
                path_of(index),
                format!("duplicate {what} `{name}`"),
            ));
        }
    }
    Ok(())
}

fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

impl TestbedConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.servers.is_empty() {
            return Err(invalid("servers", "at least one server is required"));
        }
        ensure_unique(
            self.servers.iter().map(|s| s.name.as_str()),
            |i| format!("servers[{i}].name"),
            "server name",
        )?;
        self.validate_oauth()?;
        for (index, server) in self.servers.iter().enumerate() {
            self.validate_server(index)?;
            if server.auth.mode == AuthMode::Ema && self.ema.is_none() {
                return Err(invalid(
                    format!("servers[{index}].auth.mode"),
                    "mode `ema` needs an `ema` section describing the enterprise IdP",
                ));
            }
        }
        if let Some(ema) = &self.ema {
            validate_users(&ema.users, "ema.users")?;
            validate_lifetime(ema.id_token_lifetime_secs, "ema.idTokenLifetimeSecs")?;
            validate_lifetime(ema.id_jag_lifetime_secs, "ema.idJagLifetimeSecs")?;
            validate_clients(&ema.clients, "ema.clients", true)?;
        }
        Ok(())
    }

    fn validate_oauth(&self) -> Result<(), ConfigError> {
        let oauth = &self.oauth;
        for (index, scope) in oauth.scopes_supported.iter().enumerate() {
            if !is_scope_token(scope) {
                return Err(invalid(
                    format!("oauth.scopesSupported[{index}]"),
                    format!("`{scope}` is not a valid scope token"),
                ));
            }
        }
        self.check_scopes(&oauth.default_scopes, "oauth.defaultScopes")?;
        validate_lifetime(
            oauth.access_token_lifetime_secs,
            "oauth.accessTokenLifetimeSecs",
        )?;
        validate_lifetime(
            oauth.refresh_tokens.lifetime_secs,
            "oauth.refreshTokens.lifetimeSecs",
        )?;
        validate_lifetime(oauth.code_lifetime_secs, "oauth.codeLifetimeSecs")?;
        validate_users(&oauth.users, "oauth.users")?;
        validate_clients(&oauth.static_clients, "oauth.staticClients", false)
    }

    fn validate_server(&self, index: usize) -> Result<(), ConfigError> {
        let server = &self.servers[index];
        let base = format!("servers[{index}]");
        let name_ok = !server.name.is_empty()
            && server
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(invalid(
                format!("{base}.name"),
                "use lowercase letters, digits and `-` only",
            ));
        }
        self.check_scopes(&server.auth.base_scopes, &format!("{base}.auth.baseScopes"))?;
        if server.page_size == Some(0) {
            return Err(invalid(
                format!("{base}.pageSize"),
                "a page holds at least one item",
            ));
        }

        ensure_unique(
            server.tools.iter().map(|t| t.name()),
            |i| format!("{base}.tools[{i}].name"),
            "tool name",
        )?;
        for (i, tool) in server.tools.iter().enumerate() {
            self.check_scopes(
                &tool.required_scopes,
                &format!("{base}.tools[{i}].requiredScopes"),
            )?;
            let schema_type = tool.output_schema.as_ref().map(|s| &s["type"]);
            if schema_type.is_some_and(|t| t != "object") {
                return Err(invalid(
                    format!("{base}.tools[{i}].outputSchema"),
                    "an output schema must be a JSON object with \"type\": \"object\"",
                ));
            }
        }

        ensure_unique(
            server.resources.iter().map(|r| r.uri.as_str()),
            |i| format!("{base}.resources[{i}].uri"),
            "resource uri",
        )?;
        for (i, resource) in server.resources.iter().enumerate() {
            if url::Url::parse(&resource.uri).is_err() {
                return Err(invalid(
                    format!("{base}.resources[{i}].uri"),
                    "not an absolute URI",
                ));
            }
            self.check_scopes(
                &resource.required_scopes,
                &format!("{base}.resources[{i}].requiredScopes"),
            )?;
        }

        for (i, template) in server.resource_templates.iter().enumerate() {
            if let Err(message) = crate::mcp::catalog::UriTemplate::parse(&template.uri_template) {
                return Err(invalid(
                    format!("{base}.resourceTemplates[{i}].uriTemplate"),
                    message,
                ));
            }
            self.check_scopes(
                &template.required_scopes,
                &format!("{base}.resourceTemplates[{i}].requiredScopes"),
            )?;
        }

        ensure_unique(
            server.prompts.iter().map(|p| p.name.as_str()),
            |i| format!("{base}.prompts[{i}].name"),
            "prompt name",
        )?;
        for (i, prompt) in server.prompts.iter().enumerate() {
            ensure_unique(
                prompt.arguments.iter().map(|a| a.name.as_str()),
                |j| format!("{base}.prompts[{i}].arguments[{j}].name"),
                "argument name",
            )?;
            self.check_scopes(
                &prompt.required_scopes,
                &format!("{base}.prompts[{i}].requiredScopes"),
            )?;
        }
        Ok(())
    }

    /// Every scope a server or item requires must be advertised by the authorization server.
    fn check_scopes(&self, scopes: &[String], path: &str) -> Result<(), ConfigError> {
        for (index, scope) in scopes.iter().enumerate() {
            if !self.oauth.scopes_supported.contains(scope) {
                return Err(invalid(
                    format!("{path}[{index}]"),
                    format!("scope `{scope}` is not listed in oauth.scopesSupported"),
                ));
            }
        }
        Ok(())
    }
}

fn validate_lifetime(secs: u64, path: &str) -> Result<(), ConfigError> {
    if secs == 0 {
        return Err(invalid(path, "must be at least 1 second"));
    }
    Ok(())
}

fn validate_users(users: &[UserConfig], path: &str) -> Result<(), ConfigError> {
    if users.is_empty() {
        return Err(invalid(path, "at least one user is required"));
    }
    ensure_unique(
        users.iter().map(|u| u.username.as_str()),
        |i| format!("{path}[{i}].username"),
        "username",
    )
}

fn validate_clients(
    clients: &[StaticClientConfig],
    path: &str,
    at_idp: bool,
) -> Result<(), ConfigError> {
    ensure_unique(
        clients.iter().map(|c| c.client_id.as_str()),
        |i| format!("{path}[{i}].clientId"),
        "client id",
    )?;
    for (index, client) in clients.iter().enumerate() {
        let base = format!("{path}[{index}]");
        if client.client_id.is_empty() {
            return Err(invalid(format!("{base}.clientId"), "must not be empty"));
        }
        if client.auth_method() != ClientAuthMethod::None && client.client_secret.is_none() {
            return Err(invalid(
                format!("{base}.clientSecret"),
                "required by the chosen tokenEndpointAuthMethod",
            ));
        }
        for (i, uri) in client.redirect_uris.iter().enumerate() {
            if url::Url::parse(uri).is_err() {
                return Err(invalid(
                    format!("{base}.redirectUris[{i}]"),
                    "not an absolute URI",
                ));
            }
        }
        if !at_idp && client.resource_client_id.is_some() {
            return Err(invalid(
                format!("{base}.resourceClientId"),
                "only meaningful for clients of the enterprise IdP (ema.clients)",
            ));
        }
    }
    Ok(())
}
