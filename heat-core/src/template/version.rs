//! Template formats and versions.

use std::fmt;

/// Every template version Heat knows, in release order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// `AWSTemplateFormatVersion: 2010-09-09` (or a CloudFormation template with no version key).
    Cfn20100909,
    /// `HeatTemplateFormatVersion: 2012-12-12`: Heat's CloudFormation dialect (no conditions).
    Heat20121212,
    /// `heat_template_version: 2013-05-23`.
    Hot20130523,
    /// `heat_template_version: 2014-10-16`.
    Hot20141016,
    /// `heat_template_version: 2015-04-30`.
    Hot20150430,
    /// `heat_template_version: 2015-10-15`.
    Hot20151015,
    /// `heat_template_version: 2016-04-08`.
    Hot20160408,
    /// `heat_template_version: 2016-10-14` (`newton`).
    Hot20161014,
    /// `heat_template_version: 2017-02-24` (`ocata`).
    Hot20170224,
    /// `heat_template_version: 2017-09-01` (`pike`).
    Hot20170901,
    /// `heat_template_version: 2018-03-02` (`queens`).
    Hot20180302,
    /// `heat_template_version: 2018-08-31` (`rocky`).
    Hot20180831,
    /// `heat_template_version: 2021-04-16` (`wallaby`).
    Hot20210416,
}

/// The broad family of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// AWS CloudFormation (`AWSTemplateFormatVersion`, or none).
    Cfn,
    /// Heat's CloudFormation dialect (`HeatTemplateFormatVersion: 2012-12-12`).
    HeatCfn,
    /// Heat Orchestration Template.
    Hot,
}

impl Version {
    /// Every version, oldest first.
    pub const ALL: &'static [Version] = &[
        Version::Cfn20100909,
        Version::Heat20121212,
        Version::Hot20130523,
        Version::Hot20141016,
        Version::Hot20150430,
        Version::Hot20151015,
        Version::Hot20160408,
        Version::Hot20161014,
        Version::Hot20170224,
        Version::Hot20170901,
        Version::Hot20180302,
        Version::Hot20180831,
        Version::Hot20210416,
    ];

    /// The HOT versions, oldest first.
    pub fn hot_versions() -> impl Iterator<Item = Version> {
        Version::ALL.iter().copied().filter(|v| v.is_hot())
    }

    /// The family of this version.
    pub fn format(self) -> Format {
        match self {
            Version::Cfn20100909 => Format::Cfn,
            Version::Heat20121212 => Format::HeatCfn,
            _ => Format::Hot,
        }
    }

    /// Whether this is a HOT version.
    pub fn is_hot(self) -> bool {
        self.format() == Format::Hot
    }

    /// Whether this is one of the two CloudFormation-syntax versions.
    pub fn is_cfn_syntax(self) -> bool {
        !self.is_hot()
    }

    /// The version key as written in templates (`heat_template_version`, ...).
    pub fn key(self) -> &'static str {
        match self.format() {
            Format::Cfn => "AWSTemplateFormatVersion",
            Format::HeatCfn => "HeatTemplateFormatVersion",
            Format::Hot => "heat_template_version",
        }
    }

    /// The date string of this version (`2016-10-14`).
    pub fn date(self) -> &'static str {
        match self {
            Version::Cfn20100909 => "2010-09-09",
            Version::Heat20121212 => "2012-12-12",
            Version::Hot20130523 => "2013-05-23",
            Version::Hot20141016 => "2014-10-16",
            Version::Hot20150430 => "2015-04-30",
            Version::Hot20151015 => "2015-10-15",
            Version::Hot20160408 => "2016-04-08",
            Version::Hot20161014 => "2016-10-14",
            Version::Hot20170224 => "2017-02-24",
            Version::Hot20170901 => "2017-09-01",
            Version::Hot20180302 => "2018-03-02",
            Version::Hot20180831 => "2018-08-31",
            Version::Hot20210416 => "2021-04-16",
        }
    }

    /// The release name alias, for the HOT versions that have one.
    pub fn alias(self) -> Option<&'static str> {
        match self {
            Version::Hot20161014 => Some("newton"),
            Version::Hot20170224 => Some("ocata"),
            Version::Hot20170901 => Some("pike"),
            Version::Hot20180302 => Some("queens"),
            Version::Hot20180831 => Some("rocky"),
            Version::Hot20210416 => Some("wallaby"),
            _ => None,
        }
    }

    /// The `type.version` name Heat's API uses (`heat_template_version.2016-10-14`).
    pub fn api_name(self) -> String {
        format!("{}.{}", self.key(), self.date())
    }

    /// Looks up a version from its key and value (the date or, for HOT, the alias).
    pub fn from_key_value(key: &str, value: &str) -> Option<Version> {
        Version::ALL
            .iter()
            .copied()
            .find(|v| v.key() == key && (v.date() == value || v.alias() == Some(value)))
    }

    /// Looks up a version from its API name (`heat_template_version.2016-10-14`,
    /// `heat_template_version.newton`, `AWSTemplateFormatVersion.2010-09-09`).
    pub fn from_api_name(name: &str) -> Option<Version> {
        let (key, value) = name.split_once('.')?;
        Version::from_key_value(key, value)
    }

    /// The accepted values for a version key, for error messages.
    pub fn known_values(key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for v in Version::ALL.iter().filter(|v| v.key() == key) {
            out.push(v.date().to_string());
            if let Some(alias) = v.alias() {
                out.push(alias.to_string());
            }
        }
        out
    }

    /// Whether HOT `conditions` (and resource/output `condition`) exist in this version.
    pub fn has_conditions(self) -> bool {
        match self.format() {
            Format::Cfn => true,
            Format::HeatCfn => false,
            Format::Hot => self >= Version::Hot20161014,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key(), self.date())
    }
}
