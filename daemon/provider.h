/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* provider.h: the daemon's view of the login API drivers: their interface
 * (providers/driver.h) and their registry (providers/registry.h). Drivers include neither
 * this file nor anything else of the daemon. */
#pragma once

#include "daemon/providers/driver.h"
#include "daemon/providers/registry.h"
#include "http.h"
