//! Charts and the HTML report of streamlab runs (work in progress).
