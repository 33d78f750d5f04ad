"""The alpha speedups sample."""
