-- What oidc-provider stores between requests: sign-in interactions, sessions, grants and authorization
-- codes, shared by every replica. Times are epoch milliseconds (consumed_at: seconds, as oidc-provider
-- reports it); expired rows are ignored on read and deleted on write.
CREATE TABLE oidc_payloads (
  kind VARCHAR(64) NOT NULL,
  id VARCHAR(255) NOT NULL,
  payload TEXT NOT NULL,
  grant_id VARCHAR(255),
  user_code VARCHAR(255),
  uid VARCHAR(255),
  expires_at BIGINT NOT NULL,
  consumed_at BIGINT,
  PRIMARY KEY (kind, id)
);
CREATE INDEX oidc_payloads_kind_expires_at ON oidc_payloads (kind, expires_at);
CREATE INDEX oidc_payloads_grant_id ON oidc_payloads (grant_id);
CREATE INDEX oidc_payloads_uid ON oidc_payloads (uid);
CREATE INDEX oidc_payloads_user_code ON oidc_payloads (user_code);
