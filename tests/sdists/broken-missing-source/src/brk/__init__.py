"""A deliberately broken sample project for wasiwheel's bad-input tests."""
