CREATE TABLE reviews (
  product_id INTEGER NOT NULL,
  review_id INTEGER NOT NULL,
  author VARCHAR(255) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  content TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (product_id, review_id)
);
