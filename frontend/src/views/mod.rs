//! Every component: the server list, the workspace and its tabs, the dialogs, banners and toasts.

pub mod auth_forget;
pub mod auth_view;
pub mod command_form;
pub mod content;
pub mod dialog;
pub mod export;
pub mod history;
pub mod input_required;
pub mod item_list;
pub mod lazy;
pub mod markdown_view;
pub mod network;
pub mod prompts;
pub mod protocol;
pub mod reauth;
pub mod resources;
pub mod schema_form;
pub mod server_requests;
pub mod servers;
pub mod status_badge;
pub mod step_up;
pub mod toast;
pub mod tool_result;
pub mod tool_run;
pub mod tools;
pub mod workspace;
