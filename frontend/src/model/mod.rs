//! State kept apart from the views: what each tab shows and what a resume snapshot restores ([`ui_state`]).

pub mod ui_state;
