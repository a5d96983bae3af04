//! Product modules. Each has a `PRODUCT` and a `register` function; adding a product is one
//! module file plus one line below.

pub mod cbn;
pub mod sts;
pub mod vpc;
pub mod vpcpeer;

use crate::registry::Registry;

pub fn register_all(r: &mut Registry) {
    cbn::register(r);
    sts::register(r);
    vpc::register(r);
    vpcpeer::register(r);
}
