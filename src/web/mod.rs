//! The browser layer: the only code that touches JavaScript.
