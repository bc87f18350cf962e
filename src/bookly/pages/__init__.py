"""The browser pages that email links open (root paths): server-rendered, no JavaScript."""
