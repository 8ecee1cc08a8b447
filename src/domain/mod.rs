//! Domain types: parse, don't validate. No I/O, no dependencies on other modules.
/// `as_str`, `ALL` and `FromStr` for a status stored as text: one spelling per
/// variant, written once.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok(Self::$variant),)+ other => Err(format!("unknown {} {other:?}", stringify!($name))) }
            }
        }
    };
}

pub mod billing;
pub mod calendar;
pub mod content;
pub mod correction;
pub mod email;
pub mod fees;
pub mod gift;
pub mod giving_report;
pub mod goal;
pub mod ids;
pub mod locale;
pub mod login;
pub mod member;
pub mod member_directory;
pub mod money;
pub mod offer;
pub mod receipt;
pub mod report;
pub mod retention;
pub mod round;
pub mod source;
pub mod staff;
pub mod text;
pub mod tier;
pub mod topic;
pub mod update;

pub use billing::{
    Interval, MrrMovementKind, OfferRef, Pause, PauseBehavior, PaymentCard, PaymentKind, Settled, StripeEventStatus,
    Subscription, SubscriptionState, SubscriptionStatus,
};
pub use calendar::{Month, MonthError, Zone, ZoneError};
pub use content::{ContentField, ContentKind, ContentTexts};
pub use correction::{
    ArticleAddress, Correction, CorrectionError, CorrectionFilter, CorrectionNote, CorrectionStatus, Quote, StaffAnswer,
};
pub use email::{Email, EmailError};
pub use fees::{CardFee, CardFees, CardFeesError};
pub use gift::{COMP_NO_END, CompReason, GiftError, GiftMessage, GiftMonths, extended_comp, gift_end, gift_price};
pub use giving_report::{
    DonationMonthRow, DonationReport, GiftAmounts, LargestGift, TierFigures, TierLine, TierMove, TierReport,
};
pub use goal::{GoalAmount, GoalError, GoalProgress, MonthNote, MonthNoteError, SupporterName, SupporterNameError};
pub use ids::{CorrectionId, MemberId, RoundId, StaffId, TierId, TopicId, UpdateId};
pub use locale::Locale;
pub use login::LoginPurpose;
pub use member::{Member, MemberStatus};
pub use member_directory::{
    Cursor, DayRange, MemberFilter, MemberSort, NoteText, NoteTextError, SortDirection, SortValue, StoredStanding,
};
pub use money::{Currency, Money, MoneyError};
pub use offer::{AmountOff, DiscountDuration, Offer, OfferBenefit, OfferKind, OfferRefusal};
pub use receipt::{CurrencyTotal, LegalEntity, StatementYearError};
pub use report::{
    CohortReport, CohortRow, DunningMonthRow, DunningStep, MonthRange, MrrMonthRow, MrrReport, RangeError, RangePreset,
    RevenueMonthRow, RevenueReport,
};
pub use retention::{CancelComment, CancelReason, CancelSurvey, PauseMonths, RetentionInputError, RetentionRefusal};
pub use round::{BallotEntry, Round, RoundPhase};
pub use source::{
    RawSource, Source, SourceDimension, SourceFigures, SourceLine, SourcePolicy, SourceTables, SourcesReport,
};
pub use staff::{Permission, Role, StaffUser};
pub use text::{Password, PasswordError, PersonName, PersonNameError};
pub use tier::{Tier, TierPrice};
pub use topic::{
    Article, ArticleUrl, Eligibility, TextError, Topic, TopicStatus, TopicText, VotingSettings, WeightMode,
};
pub use update::{Audience, AudienceError, UpdateBody, UpdateSubject, UpdateText, UpdateTextError, UpdateTexts};
