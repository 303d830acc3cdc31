"""Device families: each module is data plus pure parsers that turn raw input into typed messages."""
