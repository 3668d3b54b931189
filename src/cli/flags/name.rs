//! `archive init-retrieval --name PATH --inventory FILE`: naming an archive by the path
//! `vault export` would give it, resolved through an inventory the user downloaded
//! (`inventory get -o FILE`), since no inventory is kept between runs.

use super::Flag;

/// `archive init-retrieval --name`.
pub const ARCHIVE_NAME: Flag = Flag {
    long: "--name",
    value: Some("PATH"),
    help: "the archive whose export name is PATH (as 'inventory get'\n\
           shows it), instead of ARCHIVE_ID; needs --inventory",
    ..Flag::VALUE
};

/// `archive init-retrieval --inventory`.
pub const NAME_INVENTORY: Flag = Flag {
    long: "--inventory",
    value: Some("FILE"),
    help: "the downloaded inventory (JSON or CSV) that --name is\n\
           resolved through",
    ..Flag::VALUE
};
