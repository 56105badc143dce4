CREATE TABLE recommendations (
  product_id INTEGER NOT NULL,
  recommendation_id INTEGER NOT NULL,
  author VARCHAR(255) NOT NULL,
  rate INTEGER NOT NULL,
  content TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (product_id, recommendation_id)
);
