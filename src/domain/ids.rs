use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new UUIDv7: sorts by creation time, also as text.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A reader's membership record.
    MemberId
);
id_type!(
    /// A newsroom staff account.
    StaffId
);
id_type!(
    /// A membership tier (Reader, Supporter, …).
    TierId
);
id_type!(
    /// A topic readers suggested or staff put on a ballot.
    TopicId
);
id_type!(
    /// A voting round.
    RoundId
);
id_type!(
    /// A correction or clarification a reader suggested for an article.
    CorrectionId
);
id_type!(
    /// An update staff wrote to patrons ("what your support paid for").
    UpdateId
);
