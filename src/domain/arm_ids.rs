//! Azure resource ids and object ids, as people paste them into forms.
//!
//! A resource id is `/subscriptions/{guid}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{type}/{name}…]`;
//! Azure compares its segments case-insensitively.

/// A GUID as Entra writes object and tenant ids, lower-cased; `label` names the field.
pub fn parse_guid(label: &str, text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{label} is required."));
    }
    let hyphenated = text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if !hyphenated {
        return Err(format!(
            "{label} must be a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47 (32 hexadecimal digits in groups of 8-4-4-4-12)."
        ));
    }
    Ok(text.to_ascii_lowercase())
}

/// A parsed resource id: its scope and the chain of (type, name) below the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    pub subscription: String,
    pub resource_group: String,
    pub namespace: String,
    /// `[("virtualNetworks", "vnet"), ("subnets", "default")]`
    pub types: Vec<(String, String)>,
}

impl ResourceId {
    pub fn parse(text: &str) -> Result<ResourceId, String> {
        let text = text.trim();
        let shape = "must look like /subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}";
        let segments: Vec<&str> = text.strip_prefix('/').unwrap_or("").split('/').collect();
        if segments.len() < 8
            || !segments.len().is_multiple_of(2)
            || segments.iter().any(|s| s.is_empty())
        {
            return Err(format!("The resource id {shape}."));
        }
        let keyword = |i: usize, word: &str| segments[i].eq_ignore_ascii_case(word);
        if !keyword(0, "subscriptions") || !keyword(2, "resourceGroups") || !keyword(4, "providers")
        {
            return Err(format!("The resource id {shape}."));
        }
        let subscription = parse_guid("The subscription id in the resource id", segments[1])?;
        if segments
            .iter()
            .any(|s| s.chars().any(|c| c.is_control() || c.is_whitespace()))
        {
            return Err("The resource id must not contain spaces or control characters.".into());
        }
        let types = segments[6..]
            .chunks(2)
            .map(|pair| (pair[0].to_string(), pair[1].to_string()))
            .collect();
        Ok(ResourceId {
            subscription,
            resource_group: segments[3].to_string(),
            namespace: segments[5].to_string(),
            types,
        })
    }

    /// Whether the id is of this provider and type chain, e.g.
    /// `("Microsoft.Network", &["virtualNetworks", "subnets"])`.
    pub fn is_of_type(&self, namespace: &str, types: &[&str]) -> bool {
        self.namespace.eq_ignore_ascii_case(namespace)
            && self.types.len() == types.len()
            && self
                .types
                .iter()
                .zip(types)
                .all(|((t, _), want)| t.eq_ignore_ascii_case(want))
    }

    /// The last name of the chain (the subnet's, the identity's).
    pub fn name(&self) -> &str {
        self.types.last().map_or("", |(_, n)| n.as_str())
    }

    /// The name at `depth` of the chain: 0 is the top-level resource (a subnet's network),
    /// 1 its child (the subnet).
    pub fn name_at(&self, depth: usize) -> Option<&str> {
        self.types.get(depth).map(|(_, name)| name.as_str())
    }

    /// Whether the id lies in this subscription and resource group, compared as ARM compares
    /// them: without regard to case.
    pub fn is_in(&self, subscription: &str, resource_group: &str) -> bool {
        self.subscription.eq_ignore_ascii_case(subscription)
            && self.resource_group.eq_ignore_ascii_case(resource_group)
    }
}

/// The resource group named in an ARM id (the segment after `resourceGroups`, any case).
/// Lenient on purpose: lists use it to group what Azure returned, whatever else the id holds.
pub fn resource_group_of(id: &str) -> Option<&str> {
    let mut segments = id.split('/');
    segments
        .by_ref()
        .find(|s| s.eq_ignore_ascii_case("resourceGroups"))?;
    segments.next().filter(|s| !s.is_empty())
}

/// A subnet's id: `…/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}`.
pub fn parse_subnet_id(text: &str) -> Result<ResourceId, String> {
    let id = ResourceId::parse(text).map_err(|e| format!("Subnet: {e}"))?;
    if !id.is_of_type("Microsoft.Network", &["virtualNetworks", "subnets"]) {
        return Err(
            "Subnet must be the id of a subnet: …/providers/Microsoft.Network/virtualNetworks/{network}/subnets/{subnet}."
                .into(),
        );
    }
    Ok(id)
}

/// A user-assigned managed identity's id:
/// `…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`.
pub fn parse_user_assigned_identity_id(text: &str) -> Result<ResourceId, String> {
    let id = ResourceId::parse(text).map_err(|e| format!("User-assigned identity: {e}"))?;
    if !id.is_of_type("Microsoft.ManagedIdentity", &["userAssignedIdentities"]) {
        return Err(
            "User-assigned identity must be the id of one: …/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}."
                .into(),
        );
    }
    Ok(id)
}

/// The id of a subnet from its parts, as azure-ai-ml builds it.
pub fn subnet_id(subscription: &str, resource_group: &str, network: &str, subnet: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Network/virtualNetworks/{network}/subnets/{subnet}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "00000000-1111-2222-3333-444444444444";

    #[test]
    fn guids() {
        assert_eq!(
            parse_guid("Object id", " 72F988BF-86F1-41AF-91AB-2D7CD011DB47 "),
            Ok("72f988bf-86f1-41af-91ab-2d7cd011db47".into())
        );
        for bad in [
            "",
            "72f988bf86f141af91ab2d7cd011db47",
            "72f988bf-86f1-41af-91ab-2d7cd011db4",
            "g2f988bf-86f1-41af-91ab-2d7cd011db47",
            "{72f988bf-86f1-41af-91ab-2d7cd011db47}",
            "72f988bf-86f1-41af-91ab-2d7cd011db47x",
            "ü2f988bf-86f1-41af-91ab-2d7cd011db4",
        ] {
            let error = parse_guid("Object id", bad).unwrap_err();
            assert!(error.starts_with("Object id"), "{bad}: {error}");
        }
    }

    #[test]
    fn subnet_ids() {
        let good = subnet_id(SUB, "net-rg", "vnet1", "default");
        let id = parse_subnet_id(&good).unwrap();
        assert_eq!(id.resource_group, "net-rg");
        assert_eq!(id.name(), "default");
        assert!(
            parse_subnet_id(&good.to_ascii_lowercase()).is_ok(),
            "case-insensitive"
        );
        for bad in [
            "test-subnet-resource-id".to_string(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet1"
            ),
            "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
                .to_string(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v/subnets/s"
            ),
            format!(
                "/subscriptions/{SUB}/resourceGroups//providers/Microsoft.Network/virtualNetworks/v/subnets/s"
            ),
            format!(
                "/subscriptions/{SUB}/resourceGroups/r g/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
            ),
            String::new(),
        ] {
            assert!(parse_subnet_id(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_ids_are_parsed_case_insensitively() {
        let subnet = subnet_id(SUB, "net-rg", "hub", "default");
        let id = ResourceId::parse(&subnet.replace("resourceGroups", "resourcegroups"))
            .expect("a subnet id");
        assert!(id.is_of_type("microsoft.network", &["VirtualNetworks", "subnets"]));
        assert!(!id.is_of_type("Microsoft.Network", &["virtualNetworks"]));
        assert_eq!(id.resource_group, "net-rg");
        assert_eq!(id.name_at(0), Some("hub"));
        assert_eq!(id.name_at(1), Some("default"));
        assert_eq!(id.name_at(2), None);
        assert!(id.is_in(&SUB.to_ascii_uppercase(), "NET-RG"));
        assert!(!id.is_in(SUB, "other-rg"));
        assert!(!id.is_in("11111111-2222-3333-4444-555555555555", "net-rg"));
    }

    #[test]
    fn malformed_resource_ids_are_refused() {
        let subnet = subnet_id(SUB, "rg", "v", "s");
        for bad in [
            "test-subnet-resource-id".to_string(),
            String::new(),
            subnet.replace(SUB, "not-a-guid"),
            subnet.replace("/subnets/s", "/subnets"),
            format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network"),
            subnet.replace("resourceGroups", "groups"),
            format!("{subnet}/"),
            subnet[1..].to_string(),
        ] {
            assert!(ResourceId::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_group_is_read_from_any_id() {
        assert_eq!(
            resource_group_of(&subnet_id(SUB, "net-rg", "v", "s")),
            Some("net-rg")
        );
        assert_eq!(
            resource_group_of("/subscriptions/x/resourcegroups/RG/x"),
            Some("RG")
        );
        assert_eq!(resource_group_of("/subscriptions/x"), None);
        assert_eq!(resource_group_of("/subscriptions/x/resourceGroups/"), None);
    }

    #[test]
    fn identity_ids() {
        let good = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/trainer"
        );
        assert_eq!(
            parse_user_assigned_identity_id(&good).unwrap().name(),
            "trainer"
        );
        let subnet = subnet_id(SUB, "rg", "v", "s");
        assert!(parse_user_assigned_identity_id(&subnet).is_err());
    }
}
