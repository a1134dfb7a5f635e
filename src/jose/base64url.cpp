// PLACEHOLDER
#include "jose/base64url.h"
