-- Rows JupyterHub 5.x makes at every start when they are missing: the default roles
-- and the hub's own OAuth client. Loaded after jupyterhub5.sql by runtime.py, and at
-- each start by standin_hub.py.
INSERT INTO roles (name, description, scopes, managed_by_auth) VALUES
    ('admin', 'Elevated privileges (can do anything)',
     '["admin-ui", "admin:users", "admin:servers", "tokens", "admin:groups", "list:services", "read:services", "read:hub", "proxy", "shutdown", "access:services", "access:servers", "read:roles", "read:metrics", "shares"]',
     false),
    ('user', 'Standard user privileges', '["self"]', false),
    ('server', 'Post activity only', '["users:activity!user", "access:servers!user"]', false),
    ('token', 'Token with same permissions as its owner', '["inherit"]', false)
ON CONFLICT (name) DO NOTHING;
INSERT INTO oauth_clients (identifier, description, secret, redirect_uri, allowed_scopes)
VALUES ('jupyterhub', 'JupyterHub', md5(random()::text), '/nb/hub/oauth_callback', '[]')
ON CONFLICT (identifier) DO NOTHING;
