//! AWS's XML for results and errors. The documents are small and their
//! shape fixed, so they are written directly rather than through an XML
//! library; element order follows AWS's API models. Output is compact
//! (no indentation), which every SDK parses alike.

use time::OffsetDateTime;

use crate::action::Service;
use crate::error::IamError;
use crate::percent::aws_uri_encode;
use crate::response::{
    AccessKeyView, AttachedPolicyView, CredentialsView, GroupView, IamResponse, InlinePolicyView,
    ListPage, PolicyVersionView, PolicyView, RoleView, UserView,
};

/// The `Content-Type` AWS sends with these documents.
pub const CONTENT_TYPE: &str = "text/xml";

/// ISO 8601 in UTC with a `Z`, to the second, e.g. `2026-11-27T19:42:35Z`.
pub fn iso8601(time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// Appends `text` escaped for XML character data (never attributes, so
/// quotes stay as they are, as in AWS's messages). Characters XML 1.0
/// cannot carry at all (most control characters) become U+FFFD, so an
/// echoed client value can never make the document unparseable.
fn escape_into(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A literal CR would be normalized to LF by the reader.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(character),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            _ => out.push(character),
        }
    }
}

struct Xml {
    out: String,
}

impl Xml {
    fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn text(&mut self, name: &str, value: &str) {
        self.open(name);
        escape_into(&mut self.out, value);
        self.close(name);
    }

    fn optional_text(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.text(name, value);
        }
    }

    /// Policy documents travel URL-encoded inside the XML, as AWS sends
    /// them; SDKs decode them.
    fn document(&mut self, name: &str, json: &str) {
        self.text(name, &aws_uri_encode(json.as_bytes(), false));
    }

    fn date(&mut self, name: &str, time: OffsetDateTime) {
        self.text(name, &iso8601(time));
    }

    fn boolean(&mut self, name: &str, value: bool) {
        self.text(name, if value { "true" } else { "false" });
    }

    fn number(&mut self, name: &str, value: u32) {
        self.text(name, &value.to_string());
    }

    /// `<name><member>…</member>…</name><IsTruncated>…</IsTruncated>` and
    /// `<Marker>` when the page has one.
    fn list<T>(&mut self, name: &str, page: &ListPage<T>, member: impl Fn(&mut Xml, &str, &T)) {
        self.open(name);
        for item in &page.items {
            member(self, "member", item);
        }
        self.close(name);
        self.boolean("IsTruncated", page.is_truncated);
        self.optional_text("Marker", page.marker.as_deref());
    }

    fn user(&mut self, name: &str, user: &UserView) {
        self.open(name);
        // An account root (GetUser with root credentials) has no path or
        // name: AWS sends only its id, ARN and creation date.
        if !user.user_name.is_empty() {
            self.text("Path", &user.path);
            self.text("UserName", &user.user_name);
        }
        self.text("UserId", &user.user_id);
        self.text("Arn", &user.arn);
        self.date("CreateDate", user.create_date);
        self.close(name);
    }

    fn access_key(&mut self, name: &str, key: &AccessKeyView) {
        self.open(name);
        self.text("UserName", &key.user_name);
        self.text("AccessKeyId", &key.access_key_id);
        self.text("Status", key.status.as_str());
        self.optional_text("SecretAccessKey", key.secret_access_key.as_deref());
        self.date("CreateDate", key.create_date);
        self.close(name);
    }

    fn policy(&mut self, name: &str, policy: &PolicyView) {
        self.open(name);
        self.text("PolicyName", &policy.policy_name);
        self.text("PolicyId", &policy.policy_id);
        self.text("Arn", &policy.arn);
        self.text("Path", &policy.path);
        self.text("DefaultVersionId", &policy.default_version_id);
        self.number("AttachmentCount", policy.attachment_count);
        self.boolean("IsAttachable", policy.is_attachable);
        self.optional_text("Description", policy.description.as_deref());
        self.date("CreateDate", policy.create_date);
        self.date("UpdateDate", policy.update_date);
        self.close(name);
    }

    fn policy_version(&mut self, name: &str, version: &PolicyVersionView) {
        self.open(name);
        if let Some(document) = &version.document {
            self.document("Document", document);
        }
        self.text("VersionId", &version.version_id);
        self.boolean("IsDefaultVersion", version.is_default_version);
        self.date("CreateDate", version.create_date);
        self.close(name);
    }

    fn group(&mut self, name: &str, group: &GroupView) {
        self.open(name);
        self.text("Path", &group.path);
        self.text("GroupName", &group.group_name);
        self.text("GroupId", &group.group_id);
        self.text("Arn", &group.arn);
        self.date("CreateDate", group.create_date);
        self.close(name);
    }

    fn role(&mut self, name: &str, role: &RoleView) {
        self.open(name);
        self.text("Path", &role.path);
        self.text("RoleName", &role.role_name);
        self.text("RoleId", &role.role_id);
        self.text("Arn", &role.arn);
        self.date("CreateDate", role.create_date);
        self.document(
            "AssumeRolePolicyDocument",
            &role.assume_role_policy_document,
        );
        self.optional_text("Description", role.description.as_deref());
        self.number("MaxSessionDuration", role.max_session_duration_seconds);
        self.close(name);
    }

    fn attached_policy(&mut self, name: &str, attached: &AttachedPolicyView) {
        self.open(name);
        self.text("PolicyName", &attached.policy_name);
        self.text("PolicyArn", &attached.policy_arn);
        self.close(name);
    }

    fn inline_policy(&mut self, owner_element: &str, policy: &InlinePolicyView) {
        self.text(owner_element, &policy.owner_name);
        self.text("PolicyName", &policy.policy_name);
        self.document("PolicyDocument", &policy.policy_document);
    }

    fn credentials(&mut self, name: &str, credentials: &CredentialsView) {
        self.open(name);
        self.text("AccessKeyId", &credentials.access_key_id);
        self.text("SecretAccessKey", &credentials.secret_access_key);
        self.text("SessionToken", &credentials.session_token);
        self.date("Expiration", credentials.expiration);
        self.close(name);
    }

    /// The contents of `<{Operation}Result>`.
    fn result(&mut self, response: &IamResponse) {
        match response {
            IamResponse::Empty(_) => {}
            IamResponse::CreateUser(user) | IamResponse::GetUser(user) => self.user("User", user),
            IamResponse::ListUsers(page) => self.list("Users", page, Xml::user),
            IamResponse::CreateAccessKey(key) => self.access_key("AccessKey", key),
            IamResponse::ListAccessKeys(view) => {
                self.text("UserName", &view.user_name);
                self.list("AccessKeyMetadata", &view.keys, Xml::access_key);
            }
            IamResponse::GetUserPolicy(policy) => self.inline_policy("UserName", policy),
            IamResponse::GetGroupPolicy(policy) => self.inline_policy("GroupName", policy),
            IamResponse::GetRolePolicy(policy) => self.inline_policy("RoleName", policy),
            IamResponse::ListUserPolicies(page)
            | IamResponse::ListGroupPolicies(page)
            | IamResponse::ListRolePolicies(page) => {
                self.list("PolicyNames", page, |xml, name, value: &String| {
                    xml.text(name, value)
                })
            }
            IamResponse::ListAttachedUserPolicies(page)
            | IamResponse::ListAttachedGroupPolicies(page)
            | IamResponse::ListAttachedRolePolicies(page) => {
                self.list("AttachedPolicies", page, Xml::attached_policy)
            }
            IamResponse::CreatePolicy(policy) | IamResponse::GetPolicy(policy) => {
                self.policy("Policy", policy)
            }
            IamResponse::ListPolicies(page) => self.list("Policies", page, Xml::policy),
            IamResponse::CreatePolicyVersion(version) | IamResponse::GetPolicyVersion(version) => {
                self.policy_version("PolicyVersion", version)
            }
            IamResponse::ListPolicyVersions(page) => {
                self.list("Versions", page, Xml::policy_version)
            }
            IamResponse::CreateGroup(group) => self.group("Group", group),
            IamResponse::GetGroup(view) => {
                self.group("Group", &view.group);
                self.list("Users", &view.users, Xml::user);
            }
            IamResponse::ListGroups(page) | IamResponse::ListGroupsForUser(page) => {
                self.list("Groups", page, Xml::group)
            }
            IamResponse::CreateRole(role) | IamResponse::GetRole(role) => self.role("Role", role),
            IamResponse::ListRoles(page) => self.list("Roles", page, Xml::role),
            IamResponse::GetCallerIdentity(identity) => {
                self.text("UserId", &identity.user_id);
                self.text("Account", &identity.account);
                self.text("Arn", &identity.arn);
            }
            IamResponse::GetSessionToken(credentials) => {
                self.credentials("Credentials", credentials)
            }
            IamResponse::AssumeRole(view) => {
                self.credentials("Credentials", &view.credentials);
                self.open("AssumedRoleUser");
                self.text("AssumedRoleId", &view.assumed_role_user.assumed_role_id);
                self.text("Arn", &view.assumed_role_user.arn);
                self.close("AssumedRoleUser");
                if let Some(percent) = view.packed_policy_size_percent {
                    self.number("PackedPolicySize", percent);
                }
            }
        }
    }
}

/// The whole response document, e.g.
/// `<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
/// <CreateUserResult><User>…</User></CreateUserResult><ResponseMetadata>
/// <RequestId>…</RequestId></ResponseMetadata></CreateUserResponse>`.
/// Operations without a result render only `ResponseMetadata`.
pub fn render(response: &IamResponse, request_id: &str) -> String {
    let operation = response.operation();
    let name = operation.name();
    let mut xml = Xml { out: String::new() };
    xml.out.push_str(&format!(
        "<{name}Response xmlns=\"{}\">",
        operation.service().xml_namespace()
    ));
    if !matches!(response, IamResponse::Empty(_)) {
        let result = format!("{name}Result");
        xml.open(&result);
        xml.result(response);
        xml.close(&result);
    }
    xml.open("ResponseMetadata");
    xml.text("RequestId", request_id);
    xml.close("ResponseMetadata");
    xml.close(&format!("{name}Response"));
    xml.out
}

/// AWS's error document for `service`:
/// `<ErrorResponse xmlns="…"><Error><Type>Sender</Type><Code>…</Code>
/// <Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`.
/// Send it with `error.status_code_u16()`.
pub fn render_error(error: &IamError, service: Service, request_id: &str) -> String {
    let mut xml = Xml { out: String::new() };
    xml.out.push_str(&format!(
        "<ErrorResponse xmlns=\"{}\">",
        service.xml_namespace()
    ));
    xml.open("Error");
    xml.text(
        "Type",
        if error.sender_fault() {
            "Sender"
        } else {
            "Receiver"
        },
    );
    xml.text("Code", error.code.as_str());
    xml.text("Message", &error.message);
    xml.close("Error");
    xml.text("RequestId", request_id);
    xml.close("ErrorResponse");
    xml.out
}

#[cfg(test)]
mod tests;
