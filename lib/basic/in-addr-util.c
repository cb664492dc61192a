/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "in-addr-util.h"
