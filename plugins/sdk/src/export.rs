//! The glue between a [`Plugin`] and the generated bindings: converts the contract's records
//! and hands the plugin the host-backed cloud. [`crate::export_plugin!`] instantiates it.

use crate::bindings::dwlink::plugin::types as wit;
use crate::bindings::exports::dwlink::plugin::datasource::Guest;
use crate::{
    CloudError, ConnectionRequest, Endpoint, HostCloud, InstanceRef, Location, Plugin, PluginError,
    PluginInfo, WhitelistGroup,
};
use core::marker::PhantomData;

/// Exports the plugin `P` through the contract; see [`crate::export_plugin!`].
pub struct Export<P>(PhantomData<P>);

impl<P: Plugin> Guest for Export<P> {
    fn describe() -> wit::PluginInfo {
        let i: PluginInfo = P::describe();
        wit::PluginInfo {
            name: i.name,
            version: i.version,
            datasource_type: i.datasource_type,
            product: i.product,
            api_version: i.api_version,
            capabilities: i.capabilities.into_iter().map(capability_into).collect(),
            summary: i.summary,
        }
    }

    fn discover(instance: wit::InstanceRef) -> Result<wit::Location, wit::PluginError> {
        P::discover(&HostCloud, &instance_from(instance))
            .map(location_into)
            .map_err(error_into)
    }

    fn whitelist_list(
        instance: wit::InstanceRef,
    ) -> Result<Vec<wit::WhitelistGroup>, wit::PluginError> {
        P::whitelist_list(&HostCloud, &instance_from(instance))
            .map(|groups| {
                groups
                    .into_iter()
                    .map(|g: WhitelistGroup| wit::WhitelistGroup {
                        name: g.name,
                        entries: g.entries,
                        attribute: g.attribute,
                    })
                    .collect()
            })
            .map_err(error_into)
    }

    fn whitelist_add(
        instance: wit::InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> Result<(), wit::PluginError> {
        P::whitelist_add(&HostCloud, &instance_from(instance), &group, &cidrs).map_err(error_into)
    }

    fn whitelist_remove(
        instance: wit::InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> Result<(), wit::PluginError> {
        P::whitelist_remove(&HostCloud, &instance_from(instance), &group, &cidrs)
            .map_err(error_into)
    }

    fn connection_properties(request: wit::ConnectionRequest) -> Result<String, wit::PluginError> {
        let request = ConnectionRequest {
            instance: instance_from(request.instance),
            location: location_from(request.location),
            owner_uid: request.owner_uid,
            role_name: request.role_name,
            database: request.database,
            username: request.username,
            env_type: request.env_type,
        };
        crate::connection_properties_json::<P>(&HostCloud, &request).map_err(error_into)
    }
}

fn capability_into(c: crate::Capability) -> wit::Capability {
    wit::Capability {
        product: c.product,
        version: c.version,
        action: c.action,
        access: match c.access {
            crate::Access::Read => wit::Access::Read,
            crate::Access::WhitelistWrite => wit::Access::WhitelistWrite,
        },
        instance_param: c.instance_param,
        whitelist: c.whitelist.map(|w| wit::WhitelistParams {
            group_param: w.group_param,
            entries_param: w.entries_param,
            mode_param: w.mode_param,
            append_mode: w.append_mode,
            delete_mode: w.delete_mode,
            fixed_params: w.fixed_params,
        }),
    }
}

fn instance_from(i: wit::InstanceRef) -> InstanceRef {
    InstanceRef {
        id: i.id,
        region: i.region,
    }
}

fn location_from(l: wit::Location) -> Location {
    Location {
        region: l.region,
        zone: l.zone,
        vpc_id: l.vpc_id,
        vswitch_id: l.vswitch_id,
        vswitch_cidr: l.vswitch_cidr,
        endpoints: l
            .endpoints
            .into_iter()
            .map(|e| Endpoint {
                host: e.host,
                port: e.port,
                role: e.role,
                address: e.address,
            })
            .collect(),
        status: l.status,
        running: l.running,
    }
}

fn location_into(l: Location) -> wit::Location {
    wit::Location {
        region: l.region,
        zone: l.zone,
        vpc_id: l.vpc_id,
        vswitch_id: l.vswitch_id,
        vswitch_cidr: l.vswitch_cidr,
        endpoints: l
            .endpoints
            .into_iter()
            .map(|e| wit::Endpoint {
                host: e.host,
                port: e.port,
                role: e.role,
                address: e.address,
            })
            .collect(),
        status: l.status,
        running: l.running,
    }
}

fn error_into(e: PluginError) -> wit::PluginError {
    match e {
        PluginError::NotFound(m) => wit::PluginError::NotFound(m),
        PluginError::InvalidState(m) => wit::PluginError::InvalidState(m),
        PluginError::InvalidInput(m) => wit::PluginError::InvalidInput(m),
        PluginError::LimitExceeded(m) => wit::PluginError::LimitExceeded(m),
        PluginError::Cloud(CloudError {
            code,
            message,
            request_id,
            http_status,
        }) => wit::PluginError::Cloud(wit::CloudError {
            code,
            message,
            request_id,
            http_status,
        }),
        PluginError::Other(m) => wit::PluginError::Other(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cloud, Properties};

    /// A plugin that answers from its inputs and the (native, host-less) cloud.
    struct Echo;

    impl Plugin for Echo {
        fn describe() -> PluginInfo {
            PluginInfo {
                name: "echo".into(),
                version: "1.0.0".into(),
                datasource_type: "mysql".into(),
                product: "Rds".into(),
                api_version: "2014-08-15".into(),
                capabilities: vec![
                    crate::Api::new("Rds", "2014-08-15")
                        .read("DescribeDBInstanceAttribute", Some("DBInstanceId")),
                ],
                summary: "test".into(),
            }
        }
        fn discover(cloud: &dyn Cloud, i: &InstanceRef) -> Result<Location, PluginError> {
            let s = crate::Subject {
                kind: "RDS instance",
                id: &i.id,
                region: &i.region,
            };
            let request = crate::Api::new("Rds", "2014-08-15").request("X", &i.region);
            cloud
                .call::<crate::Ignored>(request)
                .map_err(|e| s.cloud_error("rds:X", e))?;
            unreachable!("there is no host natively")
        }
        fn whitelist_list(
            _: &dyn Cloud,
            i: &InstanceRef,
        ) -> Result<Vec<WhitelistGroup>, PluginError> {
            Ok(vec![WhitelistGroup {
                name: i.id.clone(),
                entries: vec![i.region.clone()],
                attribute: "hidden".into(),
            }])
        }
        fn whitelist_add(
            _: &dyn Cloud,
            _: &InstanceRef,
            g: &str,
            c: &[String],
        ) -> Result<(), PluginError> {
            Err(PluginError::LimitExceeded(format!("{g}:{}", c.join(","))))
        }
        fn whitelist_remove(
            _: &dyn Cloud,
            _: &InstanceRef,
            _: &str,
            _: &[String],
        ) -> Result<(), PluginError> {
            Ok(())
        }
        fn connection_properties(
            _: &dyn Cloud,
            r: &ConnectionRequest,
        ) -> Result<Properties, PluginError> {
            let mut p = Properties::new();
            p.insert("instanceId".into(), r.instance.id.clone().into());
            p.insert("zone".into(), r.location.zone.clone().into());
            if r.database == "leak" {
                p.insert("Password".into(), "secret".into());
            }
            Ok(p)
        }
    }

    type E = Export<Echo>;

    fn wit_instance() -> wit::InstanceRef {
        wit::InstanceRef {
            id: "rm-1".into(),
            region: "cn-hangzhou".into(),
        }
    }

    #[test]
    fn converts_records_and_errors_both_ways() {
        let info = E::describe();
        assert_eq!((info.name.as_str(), info.capabilities.len()), ("echo", 1));
        let groups = E::whitelist_list(wit_instance()).unwrap();
        assert_eq!(groups[0].name, "rm-1");
        assert_eq!(groups[0].entries, vec!["cn-hangzhou".to_string()]);
        assert_eq!(groups[0].attribute, "hidden");
        match E::whitelist_add(wit_instance(), "g".into(), vec!["1.2.3.4".into()]) {
            Err(wit::PluginError::LimitExceeded(m)) => assert_eq!(m, "g:1.2.3.4"),
            other => panic!("{other:?}"),
        }
        assert!(E::whitelist_remove(wit_instance(), "g".into(), vec![]).is_ok());
        // Natively the host cloud refuses every call; the error keeps its code.
        match E::discover(wit_instance()) {
            Err(wit::PluginError::Cloud(e)) => {
                assert_eq!(e.code, "dwlink.NoHost");
                assert!(e.message.contains("rm-1"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn connection_properties_are_json_text_and_never_carry_a_password() {
        let mut request = wit::ConnectionRequest {
            instance: wit_instance(),
            location: wit::Location {
                region: "cn-hangzhou".into(),
                zone: "cn-hangzhou-h".into(),
                vpc_id: "vpc-1".into(),
                vswitch_id: "vsw-1".into(),
                vswitch_cidr: "192.168.6.0/24".into(),
                endpoints: vec![wit::Endpoint {
                    host: "h".into(),
                    port: 3306,
                    role: "primary".into(),
                    address: None,
                }],
                status: "Running".into(),
                running: true,
            },
            owner_uid: "1".into(),
            role_name: "r".into(),
            database: "d".into(),
            username: "u".into(),
            env_type: "Dev".into(),
        };
        let text = E::connection_properties(request.clone()).unwrap();
        assert_eq!(text, r#"{"instanceId":"rm-1","zone":"cn-hangzhou-h"}"#);
        request.database = "leak".into();
        assert!(matches!(
            E::connection_properties(request),
            Err(wit::PluginError::Other(_))
        ));
    }
}
