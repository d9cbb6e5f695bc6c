//! Access control lists: grants, canned ACLs, which actions a permission
//! allows, and Object Ownership. The XML and header forms are parsed by
//! the gateway; this module is the model they parse into.

/// The groups an ACL can grant to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Anyone, anonymous callers included.
    AllUsers,
    /// Any signed request from any account.
    AuthenticatedUsers,
    /// The server access log delivery service.
    LogDelivery,
}

impl Group {
    pub const fn uri(self) -> &'static str {
        match self {
            Group::AllUsers => "http://acs.amazonaws.com/groups/global/AllUsers",
            Group::AuthenticatedUsers => {
                "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
            }
            Group::LogDelivery => "http://acs.amazonaws.com/groups/s3/LogDelivery",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        [
            Group::AllUsers,
            Group::AuthenticatedUsers,
            Group::LogDelivery,
        ]
        .into_iter()
        .find(|group| group.uri() == uri)
    }
}

/// Who a grant is for. Grants by e-mail address are resolved to the
/// account's canonical id before they are stored.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grantee {
    CanonicalUser(String),
    Group(Group),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

impl Permission {
    pub const fn name(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::FullControl => "FULL_CONTROL",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            Permission::Read,
            Permission::Write,
            Permission::ReadAcp,
            Permission::WriteAcp,
            Permission::FullControl,
        ]
        .into_iter()
        .find(|permission| permission.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

/// At most this many grants per ACL.
pub const GRANTS_MAX: usize = 100;

/// An ACL: the owner (canonical id) and the grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acl {
    pub owner: String,
    pub grants: Vec<Grant>,
}

impl Acl {
    /// The default ACL: the owner has FULL_CONTROL.
    pub fn private(owner: &str) -> Self {
        Self {
            owner: owner.to_owned(),
            grants: vec![Grant {
                grantee: Grantee::CanonicalUser(owner.to_owned()),
                permission: Permission::FullControl,
            }],
        }
    }

    /// Whether the ACL grants anything to AllUsers or AuthenticatedUsers.
    pub fn is_public(&self) -> bool {
        self.grants
            .iter()
            .any(|grant| is_public_grantee(&grant.grantee))
    }

    /// Whether the ACL grants anything to anyone but `owner` (Object
    /// Ownership `BucketOwnerEnforced` accepts only such ACLs).
    pub fn grants_only_to(&self, owner: &str) -> bool {
        self.grants
            .iter()
            .all(|grant| grant.grantee == Grantee::CanonicalUser(owner.to_owned()))
    }

    /// The ACL as it takes effect: with `IgnorePublicAcls`, public grants
    /// are dropped (and so not shown by Get*Acl either).
    pub fn effective(&self, ignore_public: bool) -> Acl {
        let mut acl = self.clone();
        if ignore_public {
            acl.grants
                .retain(|grant| !is_public_grantee(&grant.grantee));
        }
        acl
    }
}

fn is_public_grantee(grantee: &Grantee) -> bool {
    matches!(
        grantee,
        Grantee::Group(Group::AllUsers) | Grantee::Group(Group::AuthenticatedUsers)
    )
}

/// The canned ACLs of `x-amz-acl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CannedAcl {
    Private,
    PublicRead,
    PublicReadWrite,
    AuthenticatedRead,
    AwsExecRead,
    BucketOwnerRead,
    BucketOwnerFullControl,
    LogDeliveryWrite,
}

/// The canonical id AWS uses for EC2's bundle reader (`aws-exec-read`).
pub const AWS_EXEC_READ_CANONICAL_ID: &str =
    "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c";

impl CannedAcl {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "private" => CannedAcl::Private,
            "public-read" => CannedAcl::PublicRead,
            "public-read-write" => CannedAcl::PublicReadWrite,
            "authenticated-read" => CannedAcl::AuthenticatedRead,
            "aws-exec-read" => CannedAcl::AwsExecRead,
            "bucket-owner-read" => CannedAcl::BucketOwnerRead,
            "bucket-owner-full-control" => CannedAcl::BucketOwnerFullControl,
            "log-delivery-write" => CannedAcl::LogDeliveryWrite,
            _ => return None,
        })
    }

    /// The ACL this canned ACL gives a resource owned by `owner` in a
    /// bucket owned by `bucket_owner` (for objects). The bucket-owner ACLs
    /// mean nothing on a bucket and `log-delivery-write` nothing on an
    /// object: there they are `private`.
    pub fn to_acl(self, owner: &str, bucket_owner: Option<&str>) -> Acl {
        let mut acl = Acl::private(owner);
        let mut grant = |grantee: Grantee, permission: Permission| {
            acl.grants.push(Grant {
                grantee,
                permission,
            })
        };
        match self {
            CannedAcl::Private => {}
            CannedAcl::PublicRead => grant(Grantee::Group(Group::AllUsers), Permission::Read),
            CannedAcl::PublicReadWrite => {
                grant(Grantee::Group(Group::AllUsers), Permission::Read);
                grant(Grantee::Group(Group::AllUsers), Permission::Write);
            }
            CannedAcl::AuthenticatedRead => {
                grant(Grantee::Group(Group::AuthenticatedUsers), Permission::Read)
            }
            CannedAcl::AwsExecRead => grant(
                Grantee::CanonicalUser(AWS_EXEC_READ_CANONICAL_ID.to_owned()),
                Permission::Read,
            ),
            CannedAcl::BucketOwnerRead | CannedAcl::BucketOwnerFullControl => {
                if let Some(bucket_owner) =
                    bucket_owner.filter(|bucket_owner| *bucket_owner != owner)
                {
                    let permission = if self == CannedAcl::BucketOwnerRead {
                        Permission::Read
                    } else {
                        Permission::FullControl
                    };
                    grant(Grantee::CanonicalUser(bucket_owner.to_owned()), permission);
                }
            }
            CannedAcl::LogDeliveryWrite => {
                if bucket_owner.is_none() {
                    grant(Grantee::Group(Group::LogDelivery), Permission::Write);
                    grant(Grantee::Group(Group::LogDelivery), Permission::ReadAcp);
                }
            }
        }
        acl
    }
}

/// Object Ownership of a bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ObjectOwnership {
    /// ACLs disabled; the bucket owner owns every object (AWS's default
    /// for new buckets since April 2023).
    #[default]
    BucketOwnerEnforced,
    /// A new object written with `bucket-owner-full-control` belongs to
    /// the bucket owner; otherwise to its writer.
    BucketOwnerPreferred,
    /// The writer owns the object.
    ObjectWriter,
}

impl ObjectOwnership {
    pub const fn name(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            ObjectOwnership::BucketOwnerEnforced,
            ObjectOwnership::BucketOwnerPreferred,
            ObjectOwnership::ObjectWriter,
        ]
        .into_iter()
        .find(|ownership| ownership.name() == name)
    }

    pub fn acls_enabled(self) -> bool {
        self != ObjectOwnership::BucketOwnerEnforced
    }
}

/// Whether an ACL `permission` on a bucket (or object) allows `action`.
pub fn permission_allows(permission: Permission, action: &str, on_object: bool) -> bool {
    let action = action.to_ascii_lowercase();
    let read: &[&str] = if on_object {
        &["s3:getobject", "s3:getobjectversion"]
    } else {
        &[
            "s3:listbucket",
            "s3:listbucketversions",
            "s3:listbucketmultipartuploads",
        ]
    };
    let write: &[&str] = if on_object {
        &[]
    } else {
        &["s3:putobject", "s3:deleteobject"]
    };
    let read_acp: &[&str] = if on_object {
        &["s3:getobjectacl", "s3:getobjectversionacl"]
    } else {
        &["s3:getbucketacl"]
    };
    let write_acp: &[&str] = if on_object {
        &["s3:putobjectacl", "s3:putobjectversionacl"]
    } else {
        &["s3:putbucketacl"]
    };
    let allowed = |list: &[&str]| list.contains(&action.as_str());
    match permission {
        Permission::Read => allowed(read),
        Permission::Write => allowed(write),
        Permission::ReadAcp => allowed(read_acp),
        Permission::WriteAcp => allowed(write_acp),
        Permission::FullControl => {
            allowed(read) || allowed(write) || allowed(read_acp) || allowed(write_acp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "aaaa";
    const BUCKET_OWNER: &str = "bbbb";

    #[test]
    fn canned_acls_expand_as_aws_documents() {
        let grants = |canned: &str, bucket_owner: Option<&str>| -> Vec<(Grantee, Permission)> {
            CannedAcl::parse(canned)
                .expect(canned)
                .to_acl(OWNER, bucket_owner)
                .grants
                .into_iter()
                .skip(1)
                .map(|grant| (grant.grantee, grant.permission))
                .collect()
        };
        let all = Grantee::Group(Group::AllUsers);
        assert_eq!(grants("private", None), []);
        assert_eq!(
            grants("public-read", None),
            [(all.clone(), Permission::Read)]
        );
        assert_eq!(
            grants("public-read-write", None),
            [(all.clone(), Permission::Read), (all, Permission::Write)]
        );
        assert_eq!(
            grants("authenticated-read", None),
            [(Grantee::Group(Group::AuthenticatedUsers), Permission::Read)]
        );
        assert_eq!(grants("aws-exec-read", None).len(), 1);
        let bucket_owner = Grantee::CanonicalUser(BUCKET_OWNER.to_owned());
        assert_eq!(
            grants("bucket-owner-read", Some(BUCKET_OWNER)),
            [(bucket_owner.clone(), Permission::Read)]
        );
        assert_eq!(
            grants("bucket-owner-full-control", Some(BUCKET_OWNER)),
            [(bucket_owner, Permission::FullControl)]
        );
        // Ignored on buckets, and for the bucket owner's own objects.
        assert_eq!(grants("bucket-owner-full-control", None), []);
        assert_eq!(grants("bucket-owner-full-control", Some(OWNER)), []);
        let log = Grantee::Group(Group::LogDelivery);
        assert_eq!(
            grants("log-delivery-write", None),
            [(log.clone(), Permission::Write), (log, Permission::ReadAcp)]
        );
        assert_eq!(grants("log-delivery-write", Some(BUCKET_OWNER)), []);
        assert_eq!(CannedAcl::parse("public"), None);
    }

    #[test]
    fn public_and_effective_acls() {
        let public = CannedAcl::PublicRead.to_acl(OWNER, None);
        assert!(public.is_public());
        assert!(!public.effective(true).is_public());
        assert!(public.effective(false).is_public());
        assert!(!Acl::private(OWNER).is_public());
        assert!(Acl::private(OWNER).grants_only_to(OWNER));
        assert!(!public.grants_only_to(OWNER));
        assert!(CannedAcl::AuthenticatedRead.to_acl(OWNER, None).is_public());
        assert!(!CannedAcl::LogDeliveryWrite.to_acl(OWNER, None).is_public());
    }

    #[test]
    fn permissions_map_to_actions() {
        let cases: &[(Permission, &str, bool, bool)] = &[
            (Permission::Read, "s3:ListBucket", false, true),
            (Permission::Read, "s3:GetObject", false, false),
            (Permission::Read, "s3:GetObject", true, true),
            (Permission::Read, "s3:GetObjectAcl", true, false),
            (Permission::Write, "s3:PutObject", false, true),
            (Permission::Write, "s3:PutObject", true, false),
            (Permission::ReadAcp, "s3:GetBucketAcl", false, true),
            (Permission::ReadAcp, "s3:GetObjectAcl", true, true),
            (Permission::WriteAcp, "s3:PutBucketAcl", false, true),
            (Permission::WriteAcp, "s3:PutObjectAcl", true, true),
            (Permission::FullControl, "s3:PutObjectAcl", true, true),
            (Permission::FullControl, "s3:GetObject", true, true),
            (Permission::FullControl, "s3:DeleteBucket", false, false),
            (Permission::FullControl, "s3:PutBucketPolicy", false, false),
        ];
        for (permission, action, on_object, expected) in cases {
            assert_eq!(
                permission_allows(*permission, action, *on_object),
                *expected,
                "{permission:?} {action}"
            );
        }
    }
}
