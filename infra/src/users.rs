//! Who may call the API: the Cognito user pool of the customers and the app client they
//! sign in through, with the settings of `orders_blueprint::auth` (local mode makes the
//! same in its emulator).

use crate::aws::cognito::{user_pool, user_pool_client};
use crate::aws::types::cognito::{
    UserPoolAccountRecoverySetting, UserPoolAccountRecoverySettingRecoveryMechanism,
    UserPoolAdminCreateUserConfig, UserPoolPasswordPolicy,
};
use crate::config::StackConfig;
use orders_blueprint::{Names, auth};
use pulumi_gestalt_rust::{Context, Output};

pub struct Users {
    pub user_pool_id: Output<String>,
    pub user_pool_arn: Output<String>,
    pub client_id: Output<String>,
}

pub fn create(ctx: &Context, names: &Names, config: &StackConfig) -> Users {
    let pool = user_pool::create(
        ctx,
        "user-pool",
        user_pool::UserPoolArgs::builder()
            .name(names.user_pool())
            .username_attributes(vec![auth::USERNAME_ATTRIBUTE.to_string()])
            .auto_verified_attributes(vec![auth::USERNAME_ATTRIBUTE.to_string()])
            .password_policy(
                UserPoolPasswordPolicy::builder()
                    .minimum_length(auth::PASSWORD_MIN_LENGTH as i32)
                    .require_lowercase(true)
                    .require_uppercase(true)
                    .require_numbers(true)
                    .require_symbols(true)
                    .temporary_password_validity_days(auth::TEMPORARY_PASSWORD_DAYS as i32)
                    .build_struct(),
            )
            .admin_create_user_config(
                UserPoolAdminCreateUserConfig::builder()
                    .allow_admin_create_user_only(auth::ADMIN_CREATE_USER_ONLY)
                    .build_struct(),
            )
            // A forgotten password is reset through the verified email only.
            .account_recovery_setting(
                UserPoolAccountRecoverySetting::builder()
                    .recovery_mechanisms(vec![
                        UserPoolAccountRecoverySettingRecoveryMechanism::builder()
                            .name("verified_email".to_string())
                            .priority(1)
                            .build_struct(),
                    ])
                    .build_struct(),
            )
            // With real customers in it, `pulumi destroy` must not take them by accident.
            .deletion_protection(if config.protect_users {
                "ACTIVE"
            } else {
                "INACTIVE"
            })
            .mfa_configuration("OFF")
            .build_struct(),
    );
    let client = user_pool_client::create(
        ctx,
        "user-pool-client",
        user_pool_client::UserPoolClientArgs::builder()
            .name(names.user_pool_client())
            .user_pool_id(pool.id.clone())
            .generate_secret(false)
            .explicit_auth_flows(auth::AUTH_FLOWS.map(str::to_string).to_vec())
            .prevent_user_existence_errors(auth::PREVENT_USER_EXISTENCE_ERRORS)
            .build_struct(),
    );
    Users {
        user_pool_id: pool.id,
        user_pool_arn: pool.arn,
        client_id: client.id,
    }
}
